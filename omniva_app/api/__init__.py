"""REST API v1 (spec: "API Overview" and "API Endpoints Reference"): a thin layer over
Dagster and the warehouse. Reads come from the warehouse views, actions are Dagster
runs on the instance the UI shows; see docs/api.md."""
