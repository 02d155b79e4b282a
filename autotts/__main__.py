from autotts.cli import main

raise SystemExit(main())
