// OrcaAPI: the Kubernetes wire types (generated into Generated/ by
// Tools/generate-api-types.py from the v1.32 schema) and hand-written helpers.
// Clients of OrcaAPI see OrcaCore too (JSONValue, OrcaError).
@_exported import OrcaCore
