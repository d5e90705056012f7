import Foundation
import OrcaAPI

/// The cluster's DNS zone, built once from Services and EndpointSlices and answered from
/// dictionaries, following the Kubernetes DNS-Based Service Discovery specification
/// (kubernetes/dns `docs/specification.md`, schema 1.0.1) as CoreDNS's `kubernetes` plugin does
/// with `pods insecure`.
///
/// A sans-IO `Sendable` value: rebuild it whenever Services or EndpointSlices change and hand it
/// to `ClusterDNSServer.update(_:)`. `answer(_:)` returns nil for names it is not authoritative
/// for, which the server forwards upstream.
///
/// Records (TTL 5 s; negative answers carry the zone's SOA with minimum 5 s):
/// - `<svc>.<ns>.svc.<zone>`: `A`/`AAAA` of the ClusterIPs; for a headless Service the addresses of
///   its ready endpoints (NXDOMAIN when none); for an ExternalName Service a `CNAME`.
/// - `<host>.<svc>.<ns>.svc.<zone>` (headless): the endpoint's addresses, `<host>` being its
///   `hostname` or else its dashed address (`10-42-0-5`).
/// - `_<port>._<proto>.<svc>.<ns>.svc.<zone>`: `SRV` per named port, to the Service name
///   (ClusterIP) or to each ready endpoint's name (headless), with the addresses as additional records.
/// - `PTR` for the reverse names of ClusterIPs and of ready headless endpoints.
/// - `<a-b-c-d>.<ns>.pod.<zone>`: `A` of the dashed address, for any namespace.
/// - `dns-version.<zone>`: `TXT` with the schema version; the apex has an `SOA` (and an `NS`
///   when `nameserver` is known, `ns.dns.<zone>`). The SOA serial is the caller's: pass
///   `nextSerial(after:now:)` on every rebuild so it grows.
///
/// Every name in the zone is answered here, whatever its class (other than `IN`/`ANY`:
/// REFUSED), so no cluster name is ever sent upstream.
public struct ClusterDNSRecords: Sendable {
    /// The cluster domain, lowercased.
    public let zone: DNSName
    /// The TTL of every record and of negative answers (CoreDNS's default).
    public static let ttl: UInt32 = 5
    /// The schema version `dns-version.<zone>` announces.
    public static let schemaVersion = "1.0.1"
    /// The label that ties an EndpointSlice to its Service.
    public static let serviceNameLabel = WellKnownEndpointLabels.serviceName
    /// The legacy annotation that publishes not-ready endpoints (the specification's _ready_).
    public static let tolerateUnreadyAnnotation = "service.alpha.kubernetes.io/tolerate-unready-endpoints"
    /// `cluster.local`.
    public static let defaultZone = DNSName(validated: [Array("cluster".utf8), Array("local".utf8)])

    /// Services by namespace and name.
    let services: [ServiceKey: ServiceEntry]
    /// Namespaces with at least one Service (`<ns>.svc.<zone>` exists).
    let namespaces: Set<String>
    /// Addresses with PTR records.
    let reverse: [IPAddress: [ReverseTarget]]
    /// Networks whose reverse names are answered here even when unknown (NXDOMAIN).
    let reverseNetworks: [(address: IPAddress, prefixLength: Int)]
    /// The cluster DNS Service address, for `ns.dns.<zone>`.
    let nameserver: IPAddress?
    /// The zone's SOA data.
    let soa: DNSRecordData.SOA
    /// `zone`'s labels as lowercase text.
    let zoneLabels: [String]

    /// Builds the zone.
    /// - Parameters:
    ///   - services: every Service of the cluster.
    ///   - endpointSlices: every EndpointSlice; one belongs to the Service named by its
    ///     `kubernetes.io/service-name` label in its namespace.
    ///   - zone: the cluster domain.
    ///   - reverseCIDRs: networks (the service and pod CIDRs) whose unknown reverse names get
    ///     NXDOMAIN here instead of being forwarded.
    ///   - nameserver: the cluster DNS address, published as `ns.dns.<zone>`.
    ///   - serial: the SOA serial; pass `nextSerial(after:now:)` so it grows with every rebuild.
    public init(services: [Service], endpointSlices: [EndpointSlice], zone: DNSName = ClusterDNSRecords.defaultZone,
                reverseCIDRs: [String] = [], nameserver: IPAddress? = nil, serial: UInt32 = 1) {
        let zone = zone.lowercased()
        self.zone = zone
        self.zoneLabels = zone.lowercasedLabels
        self.nameserver = nameserver
        self.reverseNetworks = reverseCIDRs.compactMap(Self.parseCIDR)
        let primary = (try? DNSName(byteLabels: [Array("ns".utf8), Array("dns".utf8)] + zone.labels)) ?? zone
        let mailbox = (try? zone.prepending("hostmaster")) ?? zone
        self.soa = DNSRecordData.SOA(primary: primary, mailbox: mailbox, serial: serial, refresh: 7200, retry: 1800,
                                     expire: 86400, minimum: Self.ttl)
        let index = Index(services: services, endpointSlices: endpointSlices, zone: zone)
        self.services = index.services
        self.namespaces = index.namespaces
        self.reverse = index.reverse
    }

    /// A zone with no Services.
    public init(zone: DNSName = ClusterDNSRecords.defaultZone) {
        self.init(services: [], endpointSlices: [], zone: zone)
    }

    /// How many Services have records.
    public var serviceCount: Int { services.count }

    /// The SOA serial.
    public var serial: UInt32 { soa.serial }

    /// The serial for the next rebuild: the Unix time in seconds, or one more than `previous`
    /// when that is not later (RFC 1982 serial arithmetic), so it grows with every rebuild and
    /// across restarts of the agent. With no `previous`, the Unix time.
    public static func nextSerial(after previous: UInt32?, now: Date) -> UInt32 {
        let seconds = now.timeIntervalSince1970.rounded(.down)
        let unixTime: UInt32 = seconds.isFinite ? UInt32(clamping: Int64(max(0, min(seconds, Double(UInt32.max))))) : 0
        guard let previous else { return unixTime }
        // `unixTime` is later than `previous` when the distance forward is below 2^31.
        let distance = unixTime &- previous
        return distance != 0 && distance < 1 << 31 ? unixTime : previous &+ 1
    }

    /// The authoritative response to `query`, or nil when its name is neither in the zone nor a
    /// reverse name this zone knows (the caller forwards it). A name of the zone (or a reverse
    /// name of ours) in a class other than `IN`/`ANY` gets REFUSED; any other name in such a
    /// class is not ours. A query without exactly one question gets FORMERR.
    public func answer(_ query: DNSMessage) -> DNSMessage? {
        guard query.questions.count == 1, let question = query.questions.first else {
            return DNSMessage.response(to: query, rcode: .formatError)
        }
        let labels = question.name.lowercasedLabels
        if labels.count >= zoneLabels.count, labels.suffix(zoneLabels.count).elementsEqual(zoneLabels) {
            guard Self.isServedClass(question.class) else { return DNSMessage.response(to: query, rcode: .refused) }
            return answerInZone(query, question: question, relative: labels.dropLast(zoneLabels.count))
        }
        return answerReverse(query, question: question, labels: labels)
    }

    /// `IN` or `ANY`: the classes the zone has records in.
    static func isServedClass(_ class: DNSClass) -> Bool {
        `class` == .internet || `class` == .any
    }

    /// `a.b.c.d/n` or an IPv6 CIDR as network and prefix length.
    static func parseCIDR(_ text: String) -> (address: IPAddress, prefixLength: Int)? {
        let parts = text.split(separator: "/", omittingEmptySubsequences: false)
        guard let address = parts.first.flatMap({ IPAddress(String($0)) }) else { return nil }
        let bits = address.isIPv4 ? 32 : 128
        guard parts.count <= 2 else { return nil }
        guard parts.count == 2 else { return (address, bits) }
        guard let length = Int(parts[1]), (0...bits).contains(length) else { return nil }
        return (address, length)
    }
}
