# api/: the admin REST API, linked into gatehoused.
API_SOURCES =
