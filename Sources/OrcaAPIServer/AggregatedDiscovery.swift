import Crypto
import Foundation
import HTTPTypes
import Hummingbird
import NIOCore
import OrcaAPI

/// Aggregated discovery (`apidiscovery.k8s.io`): every resource of `/api` or of `/apis` in one
/// `APIGroupDiscoveryList`, served on those paths when the `Accept` header asks for it.
///
/// Each version's resources are converted from the legacy resource list (`resourceList`), as
/// kube-apiserver's `ConvertGroupVersionIntoToDiscovery` does, so the two forms cannot drift:
/// a subresource's kind and verbs are whatever the legacy list says. The documents are built
/// from `catalog` on every request, so resources added at run time show up at once.
extension Discovery {
    /// A served version of `APIGroupDiscoveryList` (the same shape in both).
    public enum AggregatedVersion: String, Sendable, CaseIterable {
        case v2
        case v2beta1

        /// `apidiscovery.k8s.io/v2`
        public var apiVersion: String { "\(Discovery.aggregatedGroup)/\(rawValue)" }
        /// The response `Content-Type`: `application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList`.
        public var mediaType: String { "application/json;g=\(Discovery.aggregatedGroup);v=\(rawValue);as=APIGroupDiscoveryList" }
    }

    static let aggregatedGroup = "apidiscovery.k8s.io"

    /// The aggregated version the `Accept` header asks for, or nil for the legacy documents.
    ///
    /// Media ranges are tried by descending `q` (in header order among equals); the first one
    /// Orca serves decides: `application/json;g=apidiscovery.k8s.io;v=v2|v2beta1;as=APIGroupDiscoveryList`
    /// picks that version, any range without `as=` picks the legacy document, and ranges asking for
    /// a form Orca does not serve (protobuf, another version) are skipped.
    public static func negotiateAggregated(accept: String?) -> AggregatedVersion? {
        guard let accept, !accept.isEmpty else { return nil }
        var ranges: [(q: Double, type: String, params: [String: String])] = []
        for clause in accept.split(separator: ",") {
            let parts = clause.split(separator: ";").map { $0.trimmingCharacters(in: .whitespaces) }
            guard let type = parts.first?.lowercased(), !type.isEmpty else { continue }
            var params: [String: String] = [:]
            for p in parts.dropFirst() {
                guard let eq = p.firstIndex(of: "=") else { continue }
                var value = String(p[p.index(after: eq)...]).trimmingCharacters(in: .whitespaces)
                if value.count >= 2, value.hasPrefix("\""), value.hasSuffix("\"") { value = String(value.dropFirst().dropLast()) }
                params[p[..<eq].trimmingCharacters(in: .whitespaces).lowercased()] = value
            }
            let q = params.removeValue(forKey: "q").flatMap(Double.init) ?? 1
            if q > 0 { ranges.append((q, type, params)) }
        }
        // A stable sort: equal weights keep the client's order.
        for range in ranges.enumerated().sorted(by: { ($0.element.q, -$0.offset) > ($1.element.q, -$1.offset) }).map(\.element) {
            guard let kind = range.params["as"] else { return nil }
            if range.type == "application/json", kind == "APIGroupDiscoveryList", range.params["g"] == aggregatedGroup,
               let version = range.params["v"].flatMap(AggregatedVersion.init(rawValue:)) {
                return version
            }
        }
        return nil
    }

    /// `GET /api` (`core`) or `GET /apis` as an `APIGroupDiscoveryList`.
    public func aggregatedDocument(core: Bool, version: AggregatedVersion = .v2) -> JSONValue {
        let groups = core ? catalog.groups.filter(\.isEmpty) : catalog.groups.filter { !$0.isEmpty }
        return ["kind": "APIGroupDiscoveryList", "apiVersion": .string(version.apiVersion), "metadata": [:],
                "items": .array(groups.map(groupDiscovery))]
    }

    /// One `APIGroupDiscovery`: its versions by Kubernetes version priority, each with its resources.
    func groupDiscovery(_ group: String) -> JSONValue {
        let versions = Set(catalog.resources.filter { $0.group == group }.map(\.version))
            .sorted { Discovery.compareKubeAwareVersions($0, $1) > 0 }
        let metadata: JSONValue = group.isEmpty ? [:] : ["name": .string(group)]
        return ["metadata": metadata, "versions": .array(versions.map { v in
            var entry: [String: JSONValue] = ["version": .string(v), "freshness": "Current"]
            let resources = resourceDiscovery(group: group, version: v)
            if !resources.isEmpty { entry["resources"] = .array(resources) }
            return .object(entry)
        })]
    }

    /// The `APIResourceDiscovery` entries of one group-version, converted from its legacy resource
    /// list (kube-apiserver's `ConvertGroupVersionIntoToDiscovery`), sorted by resource and subresource.
    func resourceDiscovery(group: String, version: String) -> [JSONValue] {
        guard let list = resourceList(group: group, version: version)?["resources"]?.arrayValue else { return [] }
        func kind(_ entry: JSONValue) -> JSONValue {
            guard let kind = entry["kind"]?.stringValue, !kind.isEmpty else { return ["group": "", "version": "", "kind": ""] }
            return ["group": .string(entry["group"]?.stringValue ?? group),
                    "version": .string(entry["version"]?.stringValue ?? version), "kind": .string(kind)]
        }
        func scope(_ entry: JSONValue) -> JSONValue { entry["namespaced"]?.boolValue == true ? "Namespaced" : "Cluster" }

        var resources: [String: [String: JSONValue]] = [:]
        for entry in list {
            guard let name = entry["name"]?.stringValue, !name.contains("/") else { continue }
            var r: [String: JSONValue] = [
                "resource": .string(name), "responseKind": kind(entry), "scope": scope(entry),
                "singularResource": .string(entry["singularName"]?.stringValue ?? ""), "verbs": entry["verbs"] ?? [],
            ]
            for key in ["shortNames", "categories"] {
                if let values = entry[key]?.arrayValue, !values.isEmpty { r[key] = .array(values) }
            }
            resources[name] = r
        }
        var subresources: [String: [(name: String, value: JSONValue)]] = [:]
        for entry in list {
            guard let name = entry["name"]?.stringValue, let slash = name.firstIndex(of: "/") else { continue }
            let parent = String(name[..<slash]), sub = String(name[name.index(after: slash)...])
            if resources[parent] == nil {
                // A subresource without its resource gets an empty parent, as in kube-apiserver.
                resources[parent] = ["resource": .string(parent), "responseKind": ["group": "", "version": "", "kind": ""],
                                     "scope": scope(entry), "singularResource": "", "verbs": .null]
            }
            subresources[parent, default: []].append(
                (sub, ["subresource": .string(sub), "responseKind": kind(entry), "verbs": entry["verbs"] ?? []]))
        }
        return resources.keys.sorted().map { name in
            var r = resources[name]!
            if let subs = subresources[name] { r["subresources"] = .array(subs.sorted { $0.name < $1.name }.map(\.value)) }
            return .object(r)
        }
    }

    /// Kubernetes' version priority (`CompareKubeAwareVersionStrings`): positive if `a` sorts before
    /// `b`. GA before beta before alpha, higher major then higher minor first (`v2` > `v1` >
    /// `v1beta2` > `v1beta1` > `v1alpha1`); names that are not Kubernetes versions come last, alphabetically.
    public static func compareKubeAwareVersions(_ a: String, _ b: String) -> Int {
        if a == b { return 0 }
        switch (parseKubeVersion(a), parseKubeVersion(b)) {
        case (nil, nil): return a < b ? 1 : -1
        case (nil, _): return -1
        case (_, nil): return 1
        case let (x?, y?):
            if x.stability != y.stability { return x.stability - y.stability }
            if x.major != y.major { return x.major > y.major ? 1 : -1 }
            return x.minor == y.minor ? 0 : (x.minor > y.minor ? 1 : -1)
        }
    }

    /// `v<major>[(alpha|beta)<minor>]`; stability 0 alpha, 1 beta, 2 GA.
    static func parseKubeVersion(_ v: String) -> (major: Int, stability: Int, minor: Int)? {
        guard v.hasPrefix("v") else { return nil }
        let rest = v.dropFirst()
        let majorDigits = rest.prefix { $0.isASCII && $0.isNumber }
        guard !majorDigits.isEmpty, let major = Int(majorDigits) else { return nil }
        let tail = rest.dropFirst(majorDigits.count)
        if tail.isEmpty { return (major, 2, 0) }
        for (word, stability) in [("alpha", 0), ("beta", 1)] where tail.hasPrefix(word) {
            let minorDigits = tail.dropFirst(word.count)
            guard !minorDigits.isEmpty, minorDigits.allSatisfy({ $0.isASCII && $0.isNumber }),
                  let minor = Int(minorDigits) else { return nil }
            return (major, stability, minor)
        }
        return nil
    }
}

extension APIHandler {
    /// `GET /api` (`core`) or `/apis` when the `Accept` header asks for aggregated discovery, or nil
    /// to serve the legacy document. As kube-apiserver: `Content-Type` is the negotiated media type,
    /// `Vary: Accept`, `Cache-Control: public`, a quoted SHA-512 `ETag` of the body, and 304 Not
    /// Modified when `If-None-Match` carries that tag.
    func aggregatedDiscovery(_ request: Request, core: Bool) -> Response? {
        guard let version = Discovery.negotiateAggregated(accept: request.headers[.accept]) else { return nil }
        let body = discovery.aggregatedDocument(core: core, version: version).encoded()
        let etag = "\"" + SHA512.hash(data: body).map { String(format: "%02X", $0) }.joined() + "\""
        var headers: HTTPFields = [.eTag: etag, .vary: "Accept", .cacheControl: "public"]
        if let tags = request.headers[.ifNoneMatch],
           tags.split(separator: ",").contains(where: { tag in
               let t = tag.trimmingCharacters(in: .whitespaces)
               return t == "*" || t == etag || t == "W/" + etag
           }) {
            return Response(status: .notModified, headers: headers)
        }
        headers[.contentType] = version.mediaType
        return Response(status: .ok, headers: headers, body: .init(byteBuffer: ByteBuffer(bytes: body)))
    }
}
