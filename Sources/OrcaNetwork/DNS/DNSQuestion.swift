/// One entry of the question section: the name, type and class asked for.
public struct DNSQuestion: Hashable, Sendable, CustomStringConvertible {
    /// The name asked for, in the case the client sent.
    public var name: DNSName
    /// The type asked for (`A`, `SRV`, `ANY` …).
    public var type: DNSRecordType
    /// The class asked for, nearly always `IN`.
    public var `class`: DNSClass

    /// Creates a question; the class defaults to `IN`.
    public init(name: DNSName, type: DNSRecordType, class: DNSClass = .internet) {
        self.name = name
        self.type = type
        self.class = `class`
    }

    public var description: String { "\(name) \(`class`) \(type)" }
}
