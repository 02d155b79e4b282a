"""Serving the deployments declared in prefect.yaml."""
