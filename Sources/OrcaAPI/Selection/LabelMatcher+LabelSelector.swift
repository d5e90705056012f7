import OrcaCore

extension LabelMatcher {
    /// A typed `metav1.LabelSelector` as a matcher (`LabelSelectorAsSelector`): an empty
    /// selector matches everything. Throws for an unknown operator.
    public init(_ selector: LabelSelector) throws {
        var requirements: [Requirement] = []
        for (k, v) in (selector.matchLabels ?? [:]).sorted(by: { $0.key < $1.key }) {
            requirements.append(Requirement(key: k, op: .equals, values: [v]))
        }
        for e in selector.matchExpressions ?? [] {
            let key = e.key ?? ""
            let values = e.values ?? []
            switch e.operator ?? "" {
            case "In": requirements.append(Requirement(key: key, op: .in, values: values))
            case "NotIn": requirements.append(Requirement(key: key, op: .notIn, values: values))
            case "Exists": requirements.append(Requirement(key: key, op: .exists, values: []))
            case "DoesNotExist": requirements.append(Requirement(key: key, op: .doesNotExist, values: []))
            case let other: throw OrcaError(.invalid, "\"\(other)\" is not a valid label selector operator")
            }
        }
        self.init(requirements: requirements)
    }
}
