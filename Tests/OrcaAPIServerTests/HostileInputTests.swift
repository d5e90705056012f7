import Foundation
import OrcaAPI
import Testing
@testable import OrcaAPIServer

/// Input that used to trap, hang or grow without bound: every case gets a Kubernetes error.
@Suite struct HostileInputTests {
    private func json(_ text: String) throws -> JSONValue { try JSONValue.parse(text) }

    private func pod(_ spec: String) throws -> JSONValue {
        try json(#"{"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p"}, "spec": \#(spec)}"#)
    }

    /// The causes' fields of a pod spec's validation.
    private func invalidFields(_ spec: String) throws -> [String] {
        PodValidation.validateSpec(try pod(spec)["spec"]!, path: "spec").map(\.field)
    }

    @Test func hugeWholeNumbersReadAsNoInteger() throws {
        #expect(JSONValue.double(1e300).intValue == nil)
        #expect(JSONValue.double(9.3e18).intValue == nil)
        #expect(JSONValue.double(-1e19).intValue == nil)
        #expect(JSONValue.double(2.5).intValue == nil)
        #expect(JSONValue.double(42).intValue == 42)
    }

    @Test func saturatingArithmetic() {
        #expect(Int64.max.addingSaturating(1) == .max)
        #expect(Int64.min.addingSaturating(-1) == .min)
        #expect(Int64.min.subtractingSaturating(1) == .min)
        #expect(Int64.max.multipliedSaturating(by: -2) == .min)
        #expect([Int64.max, Int64.max, 5].saturatingSum() == .max)
        #expect(Duration.seconds(clamping: Int64.max) == .seconds(100 * 365 * 86_400))
        #expect(Duration.seconds(clamping: -5.0) == .zero)
        #expect(Duration.seconds(clamping: Double.nan) == .zero)
    }

    @Test func quantitiesCompareExactly() {
        #expect(Quantity("9E").compare(to: Quantity("8E")) == 1)
        #expect(Quantity("1Ki").compare(to: Quantity("1024")) == 0)
        #expect(Quantity("100m").compare(to: Quantity("0.1")) == 0)
        #expect(Quantity("-1").compare(to: Quantity("1m")) == -1)
        #expect(Quantity("1e300").compare(to: Quantity("9E")) == 1)
    }

    static let rangeCases: [(String, String)] = [
        (#"{"securityContext": {"runAsUser": -1}, "containers": [{"name": "c", "image": "i"}]}"#, "spec.securityContext.runAsUser"),
        (#"{"securityContext": {"fsGroup": 2147483648}, "containers": [{"name": "c", "image": "i"}]}"#, "spec.securityContext.fsGroup"),
        (#"{"securityContext": {"supplementalGroups": [1, -7]}, "containers": [{"name": "c", "image": "i"}]}"#, "spec.securityContext.supplementalGroups[1]"),
        (#"{"containers": [{"name": "c", "image": "i", "securityContext": {"runAsGroup": 4294967296}}]}"#, "spec.containers[0].securityContext.runAsGroup"),
        (#"{"containers": [{"name": "c", "image": "i", "ports": [{"containerPort": 80, "hostPort": 70000}]}]}"#, "spec.containers[0].ports[0].hostPort"),
        (#"{"containers": [{"name": "c", "image": "i", "livenessProbe": {"periodSeconds": -1, "exec": {"command": ["true"]}}}]}"#, "spec.containers[0].livenessProbe.periodSeconds"),
        (#"{"containers": [{"name": "c", "image": "i", "readinessProbe": {"httpGet": {"port": 0}}}]}"#, "spec.containers[0].readinessProbe.httpGet.port"),
        (#"{"containers": [{"name": "c", "image": "i", "resources": {"requests": {"memory": "-1"}}}]}"#, "spec.containers[0].resources.requests[memory]"),
        (#"{"containers": [{"name": "c", "image": "i", "resources": {"requests": {"cpu": "2"}, "limits": {"cpu": "1"}}}]}"#, "spec.containers[0].resources.requests"),
        (#"{"containers": [{"name": "c", "image": "i", "resources": {"limits": {"memory": "lots"}}}]}"#, "spec.containers[0].resources.limits[memory]"),
        (#"{"containers": [{"name": "c", "image": "i", "env": [{"name": "X", "valueFrom": {"resourceFieldRef": {"resource": "limits.memory", "divisor": "3"}}}]}]}"#, "spec.containers[0].env[0].valueFrom.resourceFieldRef.divisor"),
        (#"{"terminationGracePeriodSeconds": -5, "containers": [{"name": "c", "image": "i"}]}"#, "spec.terminationGracePeriodSeconds"),
        (#"{"activeDeadlineSeconds": 0, "containers": [{"name": "c", "image": "i"}]}"#, "spec.activeDeadlineSeconds"),
        (#"{"volumes": [{"name": "v", "secret": {"secretName": "s", "defaultMode": 4096}}], "containers": [{"name": "c", "image": "i"}]}"#, "spec.volumes[0].secret.defaultMode"),
        (#"{"volumes": [{"name": "v", "configMap": {"name": "m", "items": [{"key": "k", "path": "../escape"}]}}], "containers": [{"name": "c", "image": "i"}]}"#, "spec.volumes[0].configMap.items[0].path"),
        (#"{"volumes": [{"name": "v", "configMap": {"name": "m", "items": [{"key": "k", "path": "/etc/passwd"}]}}], "containers": [{"name": "c", "image": "i"}]}"#, "spec.volumes[0].configMap.items[0].path"),
        (#"{"volumes": [{"name": "v", "configMap": {"name": "m", "items": [{"key": "k", "path": "a", "mode": -1}]}}], "containers": [{"name": "c", "image": "i"}]}"#, "spec.volumes[0].configMap.items[0].mode"),
        (#"{"volumes": [{"name": "v", "projected": {"sources": [{"secret": {"name": "s", "items": [{"key": "k", "path": "a/../../b"}]}}]}}], "containers": [{"name": "c", "image": "i"}]}"#, "spec.volumes[0].projected.sources[0].secret.items[0].path"),
    ]

    @Test(arguments: rangeCases)
    func outOfRangeFieldsAreInvalidWithTheirPath(spec: String, field: String) throws {
        let fields = try invalidFields(spec)
        #expect(fields.contains(field), "\(fields)")
    }

    @Test func aValidPodHasNoRangeErrors() throws {
        let spec = #"""
        {"securityContext": {"runAsUser": 2147483647, "fsGroup": 0, "supplementalGroups": [5]},
         "volumes": [{"name": "v", "secret": {"secretName": "s", "defaultMode": 511, "items": [{"key": "k", "path": "a/b", "mode": 256}]}}],
         "containers": [{"name": "c", "image": "i", "ports": [{"containerPort": 80, "hostPort": 8080}],
                         "resources": {"requests": {"cpu": "500m", "memory": "9E"}, "limits": {"cpu": "1", "memory": "9E"}},
                         "livenessProbe": {"tcpSocket": {"port": "http"}, "periodSeconds": 10},
                         "env": [{"name": "M", "valueFrom": {"resourceFieldRef": {"resource": "limits.memory", "divisor": "1Mi"}}}]}]}
        """#
        #expect(try invalidFields(spec) == [])
    }

    @Test func theOverflowPodIsStoredAndIntegersOutOfRangeAreBadRequests() async throws {
        let cluster = try await TestCluster()
        let pods = cluster.r("pods")
        var body = try pod(#"{"containers": [{"name": "a", "image": "i", "resources": {"requests": {"memory": "9E"}}}, {"name": "b", "image": "i", "resources": {"requests": {"memory": "9E"}}}]}"#)
        // Two 9E requests are valid (Kubernetes accepts them); their sum must not trap anywhere.
        let validation = FieldValidation(.strict)
        _ = try validation.check(body: &body, pods)
        _ = try await cluster.registry.create(pods, namespace: "default", object: body)

        var bad = try pod(#"{"containers": [{"name": "a", "image": "i", "ports": [{"containerPort": 3000000000}]}]}"#)
        #expect {
            _ = try validation.check(body: &bad, pods)
        } throws: { error in
            guard let e = error as? APIError else { return false }
            return e.code == 400 && e.message.contains("cannot unmarshal number 3000000000") && e.message.contains("containerPort")
        }
        var fraction = try pod(#"{"terminationGracePeriodSeconds": 1e300, "containers": [{"name": "a", "image": "i"}]}"#)
        #expect(throws: APIError.self) { _ = try validation.check(body: &fraction, pods) }
    }

    @Test func jsonPatchCopyCannotDoubleTheDocumentForever() throws {
        // 40 copies of a doubling path would make 2^40 elements.
        var ops: [JSONValue] = [["op": "add", "path": "/a", "value": .array([.string(String(repeating: "x", count: 1000))])]]
        for i in 0..<40 {
            ops.append(["op": "copy", "from": "/a", "path": .string("/b\(i)")])
            ops.append(["op": "copy", "from": .string("/b\(i)"), "path": "/a/-"])
        }
        #expect {
            _ = try JSONPatch.apply(.array(ops), to: [:])
        } throws: { error in
            (error as? OrcaError)?.code == .invalid && "\(error)".contains("accumulated size increase of copy")
        }
    }

    @Test func tooManyJSONPatchOperationsAreTooLarge() throws {
        let ops = JSONValue.array(Array(repeating: ["op": "test", "path": "", "value": [:]], count: JSONPatch.maxOperations + 1))
        #expect {
            _ = try JSONPatch.apply(ops, to: [:])
        } throws: { error in
            let api = APIError.from(error, resource: nil, name: nil)
            return api.code == 413 && api.message.contains("maximum operations in a JSON patch is 10000")
        }
    }

    @Test func manyJSONPatchOperationsOnALargeDocumentDoNotCopyIt() throws {
        // 10,000 appends to a 10,000-element list: quadratic copying would be 10^8 element copies.
        let start = JSONValue.object(["l": .array(Array(repeating: .int(1), count: 10_000))])
        let ops = JSONValue.array(Array(repeating: ["op": "add", "path": "/l/-", "value": 2], count: 10_000))
        let patched = try JSONPatch.apply(ops, to: start)
        #expect(patched["l"]?.arrayValue?.count == 20_000)
    }

    static let billionLaughs = """
    apiVersion: v1
    kind: ConfigMap
    metadata: {name: lol}
    data:
      a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]
      b: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a]
      c: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b]
      d: &d [*c,*c,*c,*c,*c,*c,*c,*c,*c]
      e: &e [*d,*d,*d,*d,*d,*d,*d,*d,*d]
      f: &f [*e,*e,*e,*e,*e,*e,*e,*e,*e]
      g: &g [*f,*f,*f,*f,*f,*f,*f,*f,*f]
      h: &h [*g,*g,*g,*g,*g,*g,*g,*g,*g]
      i: &i [*h,*h,*h,*h,*h,*h,*h,*h,*h]
    """

    @Test func yamlAliasBombsAreRefused() throws {
        #expect(YAMLAliasScan.firstResolvedAlias(in: Array(Self.billionLaughs.utf8)) == "a")
        #expect {
            _ = try BodyDecoder.decode(Array(Self.billionLaughs.utf8), contentType: "application/yaml")
        } throws: { error in
            (error as? APIError)?.code == 400
        }
    }

    static let harmlessYAML: [String] = [
        "a: '*b &b'\n",
        "command: [\"ls *.txt\", \"a && b\"]\n",
        "# &x then *x in a comment\nk: v\n",
        "s: \"&q *q\"\n",
        "k: x&y*y\n",
    ]

    @Test(arguments: harmlessYAML)
    func yamlWithoutResolvedAliasesIsAccepted(_ text: String) throws {
        #expect(YAMLAliasScan.firstResolvedAlias(in: Array(text.utf8)) == nil)
        _ = try BodyDecoder.decode(Array(text.utf8), contentType: "application/yaml")
    }

    @Test func unsupportedFieldSelectorsAreBadRequests() throws {
        let cluster = TestClusterSync.registryCatalog
        let pods = cluster.resource(group: "", version: "v1", resource: "pods")!
        try FieldLabels.check(try FieldMatcher(parsing: "spec.nodeName=n,status.phase!=Running,metadata.name=x"), for: pods)
        #expect {
            try FieldLabels.check(try FieldMatcher(parsing: "spec.noSuchField=x"), for: pods)
        } throws: { error in
            let e = error as? APIError
            return e?.code == 400 && e?.reason == "BadRequest" && e?.message == "field label not supported: spec.noSuchField"
        }
        let secrets = cluster.resource(group: "", version: "v1", resource: "secrets")!
        try FieldLabels.check(try FieldMatcher(parsing: "type=Opaque"), for: secrets)
        #expect(throws: APIError.self) { try FieldLabels.check(try FieldMatcher(parsing: "spec.nodeName=x"), for: secrets) }
    }

    @Test func logOptionsAreValidated() {
        #expect(ResourceRequest.validateLogOptions(["tailLines": "-1"]).map(\.field) == ["tailLines"])
        #expect(ResourceRequest.validateLogOptions(["limitBytes": "0"]).map(\.field) == ["limitBytes"])
        #expect(ResourceRequest.validateLogOptions(["sinceSeconds": "99999999999999999999"]).map(\.field) == ["sinceSeconds"])
        #expect(ResourceRequest.validateLogOptions(["tailLines": "10", "limitBytes": "5", "sinceSeconds": "3"]).isEmpty)
    }

    @Test func theInflightLimiterBoundsEachKind() async throws {
        let limiter = InflightLimiter(maxReadOnly: 2, maxMutating: 1)
        #expect(limiter.tryAcquire(mutating: false))
        #expect(limiter.tryAcquire(mutating: false))
        #expect(!limiter.tryAcquire(mutating: false))
        #expect(limiter.tryAcquire(mutating: true))
        #expect(!limiter.tryAcquire(mutating: true))
        limiter.release(mutating: true)
        await #expect {
            try await limiter.serve(mutating: false, exempt: false) { 1 }
        } throws: { error in
            let e = error as? APIError
            return e?.code == 429 && e?.retryAfterSeconds == 1
        }
        #expect(try await limiter.serve(mutating: false, exempt: true) { 7 } == 7)
        #expect(try await limiter.serve(mutating: true, exempt: false) { 8 } == 8)
        #expect(limiter.inflight.readOnly == 2 && limiter.inflight.mutating == 0)
        #expect(InflightLimiter.isLongRunning(subresource: nil, query: ["watch": "true"]))
        #expect(InflightLimiter.isLongRunning(subresource: "exec", query: [:]))
        #expect(!InflightLimiter.isLongRunning(subresource: "status", query: [:]))
    }

    /// Masters and a node's heartbeat (its Node, status and Lease) never wait for a slot; the
    /// node's other requests and everyone else's do.
    @Test func mastersAndNodeHeartbeatsAreExemptFromTheLimit() {
        let admin = UserInfo(name: "admin", groups: ["system:masters", "system:authenticated"])
        let node = UserInfo(name: "system:node:n1", groups: ["system:nodes", "system:authenticated"])
        let alice = UserInfo(name: "alice", groups: ["system:authenticated"])
        let lease = RequestInfo(path: "/apis/coordination.k8s.io/v1/namespaces/kube-node-lease/leases/n1")
        let nodeStatus = RequestInfo(path: "/api/v1/nodes/n1/status")
        let pods = RequestInfo(path: "/api/v1/namespaces/default/pods")
        let otherLease = RequestInfo(path: "/apis/coordination.k8s.io/v1/namespaces/default/leases/x")
        let otherNode = RequestInfo(path: "/api/v1/nodes/n2/status")
        let allNodes = RequestInfo(path: "/api/v1/nodes")
        #expect(InflightLimiter.isExempt(user: admin, info: pods))
        #expect(InflightLimiter.isExempt(user: node, info: lease) && InflightLimiter.isExempt(user: node, info: nodeStatus))
        #expect(!InflightLimiter.isExempt(user: node, info: pods) && !InflightLimiter.isExempt(user: node, info: otherLease))
        #expect(!InflightLimiter.isExempt(user: node, info: otherNode) && !InflightLimiter.isExempt(user: node, info: allNodes))
        #expect(!InflightLimiter.isExempt(user: alice, info: lease) && !InflightLimiter.isExempt(user: alice, info: nil))
    }

    @Test func protobufTimesOutOfRangeAreClamped() {
        #expect(ProtobufTimestamp.format(seconds: .max, nanos: .max, microseconds: false) == "9999-12-31T23:59:59Z")
        #expect(ProtobufTimestamp.format(seconds: .min, nanos: .min, microseconds: false) == "0001-01-01T00:00:00Z")
    }
}

/// A catalog for tests that need only resource identities.
enum TestClusterSync {
    static let registryCatalog = ResourceCatalog.standard
}

/// Server-side apply with `force: true` takes ownership of the conflicting fields.
@Suite struct ForcedApplyTests {
    @Test func forceMovesConflictingFieldsToTheNewManager() throws {
        let current = try JSONValue.parse(#"""
        {"metadata": {"name": "cm", "managedFields": [
          {"manager": "old", "operation": "Apply", "fieldsType": "FieldsV1",
           "fieldsV1": {"f:data": {"f:a": {}, "f:b": {}}}},
          {"manager": "other", "operation": "Apply", "fieldsType": "FieldsV1",
           "fieldsV1": {"f:data": {"f:c": {}}}}]},
         "data": {"a": "1", "b": "2", "c": "3"}}
        """#)
        let applied = try JSONValue.parse(#"{"metadata": {"name": "cm"}, "data": {"a": "changed", "c": "changed"}}"#)
        #expect(ManagedFields.conflictingPaths(current, applied: applied, manager: "new").count == 2)
        let moved = ManagedFields.transferringConflicts(current, applied: applied, manager: "new")
        let entries = moved[path: ["metadata", "managedFields"]]?.arrayValue ?? []
        // "old" keeps only b; "other" owned only c and is gone.
        #expect(entries.count == 1)
        #expect(entries.first?["manager"] == "old")
        #expect(entries.first?["fieldsV1"] == (try JSONValue.parse(#"{"f:data": {"f:b": {}}}"#)))
    }

    @Test func sameValuesAreNoConflict() throws {
        let current = try JSONValue.parse(#"""
        {"metadata": {"managedFields": [{"manager": "old", "fieldsV1": {"f:data": {"f:a": {}}}}]}, "data": {"a": "1"}}
        """#)
        let applied = try JSONValue.parse(#"{"data": {"a": "1"}}"#)
        #expect(ManagedFields.conflictingPaths(current, applied: applied, manager: "new").isEmpty)
        #expect(ManagedFields.transferringConflicts(current, applied: applied, manager: "new") == current)
    }
}

/// A quote inside a plain scalar does not start a quoted scalar that could hide an alias.
@Suite struct YAMLAliasScanTests {
    @Test(arguments: [
        "k: a\"b\nx: &x [1]\ny: [*x, *x]\nz: \"\n",
        "k: it's\nx: &x [1]\ny: [*x]\nw: 'q'\n",
    ])
    func aliasesAfterAQuoteInsideAPlainScalarAreFound(_ text: String) {
        #expect(YAMLAliasScan.firstResolvedAlias(in: Array(text.utf8)) == "x")
    }
}

/// YAML bodies become the JSON sigs.k8s.io/yaml would make; shapes JSON cannot hold are 400s.
@Suite struct YAMLBodyTests {
    @Test func scalarsResolveByTheCoreSchema() throws {
        let v = try BodyDecoder.decode(Array("a: 1\nb: \"1\"\nc: true\nd: null\ne: 1.5\nf: x\ng: ~\nh: 2.0\n".utf8), contentType: "application/yaml")
        #expect(v == ["a": 1, "b": "1", "c": true, "d": .null, "e": .double(1.5), "f": "x", "g": .null, "h": 2])
    }

    @Test(arguments: ["{[1]: 2}\n", "? - a\n: b\n", "? {a: 1}\n: b\n", "a: .inf\n", "a: .nan\n"])
    func unrepresentableYAMLIsABadRequest(_ text: String) {
        #expect {
            _ = try BodyDecoder.decode(Array(text.utf8), contentType: "application/yaml")
        } throws: { error in
            (error as? APIError)?.code == 400
        }
    }
}
