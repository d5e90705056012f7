/// One field of a Kubernetes protobuf message, as `ProtobufFieldTable` lists it: the JSON
/// property it carries and how its presence on the wire is to be read.
struct ProtobufField: Sendable, Hashable {
    enum Kind: Sendable, Hashable {
        /// A Go value field: the encoder always writes it, so a zero scalar means "unset"
        /// (dropped, as `json:",omitempty"` would) unless the schema lists it as required.
        case value
        /// A Go pointer field: written only when set, so a zero value was set on purpose.
        case pointer
        /// An embedded Go struct (`json:",inline"`): `name` is the table entry of the embedded
        /// message, whose fields belong to the enclosing JSON object.
        case inline
        /// A named Go slice type (`type Verbs []string`): a message wrapping `repeated items = 1`.
        case wrappedList
    }

    /// The JSON property name, or for `.inline` the table entry of the embedded message.
    var name: String
    var kind: Kind

    static func value(_ name: String) -> ProtobufField { ProtobufField(name: name, kind: .value) }
    static func pointer(_ name: String) -> ProtobufField { ProtobufField(name: name, kind: .pointer) }
    static func inline(_ message: String) -> ProtobufField { ProtobufField(name: message, kind: .inline) }
    static func wrappedList(_ name: String) -> ProtobufField { ProtobufField(name: name, kind: .wrappedList) }
}
