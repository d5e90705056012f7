/// The data (RDATA) of a resource record; its case decides the record's type.
///
/// Types the cluster DNS does not interpret pass through as `.raw`, byte for byte (names inside
/// them are not decompressed, so only types RFC 3597 forbids compressing should be raw).
public enum DNSRecordData: Hashable, Sendable {
    /// `A` for an IPv4 address, `AAAA` for an IPv6 address.
    case address(IPAddress)
    /// `CNAME`: the name is an alias of `target`.
    case cname(DNSName)
    /// `NS`: a name server of the zone.
    case ns(DNSName)
    /// `PTR`: the name an address maps back to.
    case ptr(DNSName)
    /// `SRV` (RFC 2782): where a service runs.
    case srv(SRV)
    /// `SOA`: the zone's authority data; its `minimum` is the TTL of negative answers.
    case soa(SOA)
    /// `TXT`: one or more character strings of at most 255 bytes each.
    case txt([[UInt8]])
    /// Any other type, kept as raw RDATA.
    case raw(type: DNSRecordType, data: [UInt8])

    /// `SRV` data.
    public struct SRV: Hashable, Sendable {
        /// Lower is tried first.
        public var priority: UInt16
        /// Relative weight among targets of one priority.
        public var weight: UInt16
        /// The port the service listens on.
        public var port: UInt16
        /// The host that offers the service (never compressed on the wire).
        public var target: DNSName

        /// Creates SRV data.
        public init(priority: UInt16, weight: UInt16, port: UInt16, target: DNSName) {
            self.priority = priority
            self.weight = weight
            self.port = port
            self.target = target
        }
    }

    /// `SOA` data.
    public struct SOA: Hashable, Sendable {
        /// MNAME: the primary name server.
        public var primary: DNSName
        /// RNAME: the mailbox of the zone's administrator, `@` as the first dot.
        public var mailbox: DNSName
        /// The zone's version.
        public var serial: UInt32
        /// Seconds between secondary refreshes.
        public var refresh: UInt32
        /// Seconds between retries of a failed refresh.
        public var retry: UInt32
        /// Seconds after which a secondary stops answering.
        public var expire: UInt32
        /// The TTL of negative answers (RFC 2308).
        public var minimum: UInt32

        /// Creates SOA data.
        public init(primary: DNSName, mailbox: DNSName, serial: UInt32, refresh: UInt32, retry: UInt32, expire: UInt32, minimum: UInt32) {
            self.primary = primary
            self.mailbox = mailbox
            self.serial = serial
            self.refresh = refresh
            self.retry = retry
            self.expire = expire
            self.minimum = minimum
        }
    }

    /// One `TXT` string from text.
    public static func text(_ strings: String...) -> DNSRecordData {
        .txt(strings.map { Array($0.utf8) })
    }

    /// The record type this data belongs to.
    public var type: DNSRecordType {
        switch self {
        case .address(.v4): .a
        case .address(.v6): .aaaa
        case .cname: .cname
        case .ns: .ns
        case .ptr: .ptr
        case .srv: .srv
        case .soa: .soa
        case .txt: .txt
        case .raw(let type, _): type
        }
    }
}
