/// The data (RDATA) of a resource record; its case decides the record's type.
///
/// Every RFC 1035 type whose data holds domain names (NS, CNAME, SOA, PTR, MX, MB, MG, MR,
/// MINFO) is decoded, so names compressed against the message it came in are read in full and
/// written anew. Other types pass through as `.raw`, byte for byte; a few later types (RP, AFSDB,
/// RT, PX, NAPTR …) may still carry compression pointers into their original message there, so a
/// message holding raw records is never cut or merged into another one (`isFullyDecoded`).
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
    /// `MX`: a mail exchange for the name.
    case mx(MX)
    /// `MB`: the host of the mailbox.
    case mb(DNSName)
    /// `MG`: a mailbox in the mail group.
    case mg(DNSName)
    /// `MR`: the new name of the mailbox.
    case mr(DNSName)
    /// `MINFO`: the mailboxes responsible for a mail list and receiving its errors.
    case minfo(MINFO)
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

    /// `MX` data.
    public struct MX: Hashable, Sendable {
        /// Lower is tried first.
        public var preference: UInt16
        /// The host that accepts the mail.
        public var exchange: DNSName

        /// Creates MX data.
        public init(preference: UInt16, exchange: DNSName) {
            self.preference = preference
            self.exchange = exchange
        }
    }

    /// `MINFO` data.
    public struct MINFO: Hashable, Sendable {
        /// RMAILBX: the mailbox responsible for the list.
        public var responsibleMailbox: DNSName
        /// EMAILBX: the mailbox that receives errors about the list.
        public var errorMailbox: DNSName

        /// Creates MINFO data.
        public init(responsibleMailbox: DNSName, errorMailbox: DNSName) {
            self.responsibleMailbox = responsibleMailbox
            self.errorMailbox = errorMailbox
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
        case .mx: .mx
        case .mb: .mb
        case .mg: .mg
        case .mr: .mr
        case .minfo: .minfo
        case .raw(let type, _): type
        }
    }

    /// Whether the data is kept as raw bytes (see the type's documentation).
    public var isRaw: Bool {
        if case .raw = self { return true }
        return false
    }
}
