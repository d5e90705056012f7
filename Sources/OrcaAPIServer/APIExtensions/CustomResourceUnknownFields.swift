import OrcaAPI

/// The fields of a custom resource that its version's structural schema does not know, as
/// kube-apiserver's custom resource decoder lists them for `fieldValidation` (`Strict` fails with
/// them, `Warn` sends one warning each):
///
/// 1. unknown fields of the root `metadata`, checked against ObjectMeta as for built-in kinds
///    (`metadata.nmae`);
/// 2. the fields pruning drops (apiextensions' `PruneWithOptions`), sorted as Go sorts strings:
///    `spec.ports[0].bogus`, `spec.unknown`; a map value's fields are `spec.map.key.bogus`;
///    nothing under `x-kubernetes-preserve-unknown-fields` that the schema does not describe;
///    the root's `apiVersion`, `kind` and `metadata` are always known, and so are an embedded
///    resource's (`x-kubernetes-embedded-resource`);
/// 3. unknown fields of an embedded resource's `metadata`, sorted (`spec.template.metadata.bogus`,
///    a map value's named `spec.map[key].metadata.bogus` as its field path prints it).
enum CustomResourceUnknownFields {
    /// The definition embedded resources' and the root's `metadata` are checked against.
    static let objectMeta = "io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta"

    /// The unknown fields of a custom resource `object`, dropped from it as the decoder drops them
    /// (unknown `metadata` fields here, the rest by `schema.prune`); with the decoding errors of its
    /// `metadata` (a value of the wrong JSON type). `schema` nil: only `metadata` is checked.
    static func inspect(_ object: inout JSONValue, schema: StructuralSchema?) -> FieldValidation.Findings {
        var findings = FieldValidation.Findings()
        if var metadata = object["metadata"], metadata.objectValue != nil {
            findings = FieldValidation.inspect(&metadata, definition: objectMeta, at: "metadata")
            object["metadata"] = metadata
        }
        guard let schema else { return findings }
        var walk = Walk()
        walk.visit(object, schema, path: Path(), isRoot: true)
        findings.unknown += walk.pruned.sorted(by: goLess) + walk.embeddedMetadata.sorted(by: goLess)
        findings.numbers += walk.numbers
        schema.prune(&object)
        return findings
    }

    /// The paths of the unknown fields of `object`, leaving it as it is.
    static func paths(_ object: JSONValue, schema: StructuralSchema?) -> [String] {
        var copy = object
        return inspect(&copy, schema: schema).unknown
    }

    /// Go's `sort.Strings` order: bytewise.
    static func goLess(_ a: String, _ b: String) -> Bool {
        a.utf8.lexicographicallyPrecedes(b.utf8)
    }

    /// Where the walk is, spelled both ways kube-apiserver spells it: pruning joins map keys
    /// with dots (`spec.map.key`), a field path brackets them (`spec.map[key]`).
    struct Path {
        var pruning = ""
        var field = ""

        func key(_ k: String) -> Path {
            Path(pruning: pruning.isEmpty ? k : "\(pruning).\(k)", field: field.isEmpty ? k : "\(field).\(k)")
        }

        func mapKey(_ k: String) -> Path {
            Path(pruning: pruning.isEmpty ? k : "\(pruning).\(k)", field: "\(field)[\(k)]")
        }

        func index(_ i: Int) -> Path {
            Path(pruning: "\(pruning)[\(i)]", field: "\(field)[\(i)]")
        }
    }

    /// One walk over an object, following `StructuralSchema.prune` step for step.
    struct Walk {
        var pruned: [String] = []
        var embeddedMetadata: [String] = []
        var numbers: [String] = []

        static let typeMeta: Set<String> = ["apiVersion", "kind", "metadata"]

        mutating func visit(_ value: JSONValue, _ schema: StructuralSchema?, path: Path, isRoot: Bool = false) {
            if let schema, schema.preserveUnknownFields {
                visitPreserving(value, schema, path: path, isRoot: isRoot)
                return
            }
            switch value {
            case .object(let fields):
                guard let schema else {
                    pruned += fields.keys.map { path.key($0).pruning }
                    return
                }
                for (key, child) in fields {
                    if isRoot || schema.embeddedResource, Self.typeMeta.contains(key) {
                        if key == "metadata", !isRoot { visitEmbeddedMetadata(child, path: path.key(key)) }
                    } else if let property = schema.properties[key] {
                        visit(child, property, path: path.key(key))
                    } else if let values = schema.additionalProperties {
                        visit(child, values.schema, path: path.mapKey(key))
                    } else {
                        pruned.append(path.key(key).pruning)
                    }
                }
            case .array(let items):
                for (i, item) in items.enumerated() { visit(item, schema?.items, path: path.index(i)) }
            default:
                break
            }
        }

        /// Under `x-kubernetes-preserve-unknown-fields`: fields the schema does not describe stay
        /// (and are not looked into); described ones are walked as usual.
        private mutating func visitPreserving(_ value: JSONValue, _ schema: StructuralSchema, path: Path, isRoot: Bool) {
            switch value {
            case .object(let fields):
                for (key, child) in fields {
                    if isRoot || schema.embeddedResource, Self.typeMeta.contains(key) {
                        if key == "metadata", !isRoot { visitEmbeddedMetadata(child, path: path.key(key)) }
                    } else if let property = schema.properties[key] {
                        visit(child, property, path: path.key(key))
                    } else if let values = schema.additionalProperties {
                        visit(child, values.schema, path: path.mapKey(key))
                    }
                }
            case .array(let items):
                guard let itemSchema = schema.items else { return }
                for (i, item) in items.enumerated() { visitPreserving(item, itemSchema, path: path.index(i), isRoot: false) }
            default:
                break
            }
        }

        /// An embedded resource's `metadata`, strictly decoded as ObjectMeta.
        private mutating func visitEmbeddedMetadata(_ value: JSONValue, path: Path) {
            guard value.objectValue != nil else { return }
            var metadata = value
            let findings = FieldValidation.inspect(&metadata, definition: CustomResourceUnknownFields.objectMeta, at: path.field)
            embeddedMetadata += findings.unknown
            numbers += findings.numbers
        }
    }
}
