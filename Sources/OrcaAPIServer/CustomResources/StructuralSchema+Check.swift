import Foundation
import OrcaCore

extension StructuralSchema {
    /// Why a schema is not structural or not allowed, as kube-apiserver's CRD validation says it, with field
    /// paths under `fieldPath` (e.g. `spec.versions[0].schema.openAPIV3Schema.properties[spec].type`). Empty
    /// when fine. Defaults are only checked once everything else passes, as kube-apiserver does.
    public static func validateSchema(_ schema: JSONValue, fieldPath: String) -> [StatusCause] {
        var check = SchemaCheck()
        check.run(schema, path: fieldPath)
        return check.causes
    }
}
