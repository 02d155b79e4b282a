"""The DuckDB warehouse: one file holding banks, controllers, evaluations and discovery rounds.

Schema lives in versioned SQL files (`warehouse/sql/NNN_*.sql`) applied in order; views are the
public interface people query by hand (docs/warehouse.md). Writes are short transactions: open,
write, commit, close, so ad-hoc readers get in between.
"""
