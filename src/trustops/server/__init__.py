"""The trustops server: REST API and dashboard over the governance store (``trustops serve``)."""
