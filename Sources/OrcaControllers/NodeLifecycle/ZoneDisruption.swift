import Foundation
import OrcaClient

/// How many nodes of each zone are Ready, and what that means for taint-based eviction
/// (the node lifecycle controller's `zoneStates` and `handleDisruption`), as a sans-IO value:
/// - a zone where no node is Ready is in full disruption; when every zone is, the control
///   plane is more likely cut off from the nodes than the nodes all dead, so no node gets a
///   NoExecute taint and those there are removed ("master disruption mode");
/// - a zone with more than two nodes not Ready and at least `unhealthyZoneThreshold` of them
///   is in partial disruption: a small zone (at most `largeClusterThreshold` nodes) gets no
///   new NoExecute taints.
///
/// Nodes labelled `node.kubernetes.io/exclude-disruption` are not counted. Each node's entry
/// follows its resourceVersion, so an older version seen late never overrides a newer one.
/// (Kubernetes also rate-limits tainting per zone; Orca taints at once.)
struct ZoneDisruption: Sendable {
    /// The state of one zone (`ZoneState`).
    enum State: Sendable, Equatable {
        case normal
        case partialDisruption
        case fullDisruption
    }

    /// What decides whether nodes may be tainted NoExecute: every zone's state, and whether
    /// all zones are fully disrupted.
    struct Snapshot: Sendable, Equatable {
        var zones: [String: State]
        var allFullyDisrupted: Bool
    }

    struct Member: Sendable {
        var zone: String
        var ready: Bool
        var resourceVersion: Int64?
    }

    /// The label that keeps a node out of the zone counts.
    static let exclusionLabel = "node.kubernetes.io/exclude-disruption"

    var unhealthyZoneThreshold: Double
    var largeClusterThreshold: Int
    private(set) var members: [String: Member] = [:]
    private var counts: [String: (ready: Int, notReady: Int)] = [:]

    init(unhealthyZoneThreshold: Double, largeClusterThreshold: Int) {
        self.unhealthyZoneThreshold = unhealthyZoneThreshold
        self.largeClusterThreshold = largeClusterThreshold
    }

    /// Records the readiness of `node`; returns whether the snapshot changed.
    mutating func update(_ node: Node) -> Bool {
        let name = node.metadata?.name ?? ""
        let version = node.metadata?.resourceVersion.flatMap { Int64($0) }
        if let old = members[name], let oldVersion = old.resourceVersion, let version, version < oldVersion { return false }
        let before = snapshot
        if let old = members.removeValue(forKey: name) { uncount(old) }
        if node.metadata?.labels?[Self.exclusionLabel] == nil {
            let member = Member(zone: Self.zoneKey(node), ready: node.readyCondition?.status == "True", resourceVersion: version)
            members[name] = member
            count(member)
        }
        return snapshot != before
    }

    /// Forgets a deleted node; returns whether the snapshot changed.
    mutating func remove(_ name: String) -> Bool {
        let before = snapshot
        guard let old = members.removeValue(forKey: name) else { return false }
        uncount(old)
        return snapshot != before
    }

    private mutating func count(_ m: Member) {
        var c = counts[m.zone] ?? (0, 0)
        if m.ready { c.ready += 1 } else { c.notReady += 1 }
        counts[m.zone] = c
    }

    private mutating func uncount(_ m: Member) {
        guard var c = counts[m.zone] else { return }
        if m.ready { c.ready -= 1 } else { c.notReady -= 1 }
        counts[m.zone] = c.ready + c.notReady == 0 ? nil : c
    }

    /// The state of one zone (`ComputeZoneState`).
    func state(ofZone zone: String) -> State {
        guard let c = counts[zone] else { return .normal }
        if c.ready == 0, c.notReady > 0 { return .fullDisruption }
        if c.notReady > 2, Double(c.notReady) / Double(c.ready + c.notReady) >= unhealthyZoneThreshold { return .partialDisruption }
        return .normal
    }

    var snapshot: Snapshot {
        var zones: [String: State] = [:]
        for zone in counts.keys { zones[zone] = state(ofZone: zone) }
        let all = !zones.isEmpty && zones.values.allSatisfy { $0 == .fullDisruption }
        return Snapshot(zones: zones, allFullyDisrupted: all)
    }

    /// Whether every zone is fully disrupted (no node anywhere is Ready).
    var allFullyDisrupted: Bool { snapshot.allFullyDisrupted }

    /// Whether `node` may get a new NoExecute taint now: not while every zone is fully
    /// disrupted, nor in a small zone in partial disruption (whose eviction rate is zero).
    func allowsNewNoExecuteTaint(_ node: Node) -> Bool {
        let snapshot = self.snapshot
        if snapshot.allFullyDisrupted { return false }
        let zone = Self.zoneKey(node)
        guard snapshot.zones[zone] == .partialDisruption else { return true }
        let size = counts[zone].map { $0.ready + $0.notReady } ?? 0
        return size > largeClusterThreshold
    }

    /// The zone of a node (`topology.GetZoneKey`): region and zone labels (the stable ones,
    /// else the deprecated `failure-domain.beta` ones), or "" when it has neither.
    static func zoneKey(_ node: Node) -> String {
        let labels = node.metadata?.labels ?? [:]
        let zone = labels["topology.kubernetes.io/zone"] ?? labels["failure-domain.beta.kubernetes.io/zone"] ?? ""
        let region = labels["topology.kubernetes.io/region"] ?? labels["failure-domain.beta.kubernetes.io/region"] ?? ""
        if zone.isEmpty, region.isEmpty { return "" }
        return region + ":\u{0}:" + zone
    }
}
