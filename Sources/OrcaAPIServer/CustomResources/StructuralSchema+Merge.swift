import OrcaAPI

/// A custom resource's schema drives merges as kube's structured merge does: lists with
/// `x-kubernetes-list-type: map` merge their items by `x-kubernetes-list-map-keys`, `set`
/// lists merge their values, other lists are replaced; maps of free keys merge per key.
extension StructuralSchema: MergeSchema {
    public func mergeField(_ property: String) -> MergeField? {
        guard let child = properties[property] ?? additionalProperties?.schema else { return nil }
        if child.type == "array" {
            let mergesList = child.listType == "map" || child.listType == "set"
            return MergeField(schema: child.items, isList: true, isMap: false, mergesList: mergesList,
                              mergeKeys: child.listType == "map" ? child.listMapKeys : [])
        }
        if child.properties.isEmpty, child.additionalProperties?.schema != nil {
            return MergeField(schema: nil, isList: false, isMap: true, mergesList: false, mergeKeys: [])
        }
        return MergeField(schema: child, isList: false, isMap: false, mergesList: false, mergeKeys: [])
    }
}
