/// One resource record of the answer, authority or additional section.
public struct DNSResourceRecord: Hashable, Sendable, CustomStringConvertible {
    /// The owner name.
    public var name: DNSName
    /// The class, nearly always `IN`.
    public var `class`: DNSClass
    /// Seconds a resolver may cache the record.
    public var ttl: UInt32
    /// The data; it decides the type.
    public var data: DNSRecordData

    /// Creates a record; the class defaults to `IN`.
    public init(name: DNSName, class: DNSClass = .internet, ttl: UInt32, data: DNSRecordData) {
        self.name = name
        self.class = `class`
        self.ttl = ttl
        self.data = data
    }

    /// The record type, from the data.
    public var type: DNSRecordType { data.type }

    public var description: String {
        let rdata: String
        switch data {
        case .address(let ip): rdata = ip.description
        case .cname(let name), .ns(let name), .ptr(let name), .mb(let name), .mg(let name), .mr(let name): rdata = name.description
        case .mx(let mx): rdata = "\(mx.preference) \(mx.exchange)"
        case .minfo(let minfo): rdata = "\(minfo.responsibleMailbox) \(minfo.errorMailbox)"
        case .srv(let srv): rdata = "\(srv.priority) \(srv.weight) \(srv.port) \(srv.target)"
        case .soa(let soa):
            rdata = "\(soa.primary) \(soa.mailbox) \(soa.serial) \(soa.refresh) \(soa.retry) \(soa.expire) \(soa.minimum)"
        case .txt(let strings): rdata = strings.map { "\"\(String(decoding: $0, as: UTF8.self))\"" }.joined(separator: " ")
        case .raw(_, let bytes): rdata = "\\# \(bytes.count)"
        }
        return "\(name) \(ttl) \(`class`) \(type) \(rdata)"
    }
}
