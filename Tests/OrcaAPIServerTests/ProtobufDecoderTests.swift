import OrcaAPI
import Testing
@testable import OrcaAPIServer

/// A tiny protobuf encoder for hand-built Kubernetes bodies.
struct ProtobufWriter {
    var bytes: [UInt8] = []

    mutating func varint(_ value: UInt64) {
        var v = value
        while v >= 0x80 {
            bytes.append(UInt8(v & 0x7F) | 0x80)
            v >>= 7
        }
        bytes.append(UInt8(v))
    }
    mutating func tag(_ field: Int, _ wireType: UInt8) { varint(UInt64(field) << 3 | UInt64(wireType)) }
    mutating func int(_ field: Int, _ value: Int64) {
        tag(field, 0)
        varint(UInt64(bitPattern: value))
    }
    mutating func bool(_ field: Int, _ value: Bool) { int(field, value ? 1 : 0) }
    mutating func bytes(_ field: Int, _ value: [UInt8]) {
        tag(field, 2)
        varint(UInt64(value.count))
        bytes += value
    }
    mutating func string(_ field: Int, _ value: String) { bytes(field, Array(value.utf8)) }
    mutating func message(_ field: Int, _ build: (inout ProtobufWriter) -> Void = { _ in }) {
        var inner = ProtobufWriter()
        build(&inner)
        bytes(field, inner.bytes)
    }
    mutating func fixed64(_ field: Int, _ value: UInt64) {
        tag(field, 1)
        for i in 0..<8 { bytes.append(UInt8(truncatingIfNeeded: value >> UInt64(8 * i))) }
    }
    mutating func fixed32(_ field: Int, _ value: UInt32) {
        tag(field, 5)
        for i in 0..<4 { bytes.append(UInt8(truncatingIfNeeded: value >> UInt32(8 * i))) }
    }
    /// A map entry `{1: key, 2: value}`.
    mutating func entry(_ field: Int, _ key: String, _ value: (inout ProtobufWriter) -> Void) {
        message(field) {
            $0.string(1, key)
            value(&$0)
        }
    }
    mutating func entry(_ field: Int, _ key: String, _ value: String) { entry(field, key) { $0.string(2, value) } }

    /// `k8s\0` + runtime.Unknown {1: typeMeta, 2: raw}.
    static func body(_ apiVersion: String, _ kind: String, _ build: (inout ProtobufWriter) -> Void) -> [UInt8] {
        var raw = ProtobufWriter()
        build(&raw)
        var envelope = ProtobufWriter()
        envelope.message(1) {
            $0.string(1, apiVersion)
            $0.string(2, kind)
        }
        envelope.bytes(2, raw.bytes)
        envelope.string(3, "")
        envelope.string(4, "")
        return ProtobufDecoder.magic + envelope.bytes
    }
}

/// ObjectMeta as Go writes it: every value field present, zero or not; creationTimestamp an empty message.
private func writeObjectMeta(_ w: inout ProtobufWriter, name: String, namespace: String = "", labels: [(String, String)] = []) {
    w.message(1) { m in
        m.string(1, name)
        m.string(2, "")
        m.string(3, namespace)
        m.string(4, "")
        m.string(5, "")
        m.string(6, "")
        m.int(7, 0)
        m.message(8)
        for (k, v) in labels { m.entry(11, k, v) }
    }
}

private func protobufExpectedJSON(_ text: String) throws -> JSONValue { try JSONValue.parse(text) }

@Suite struct ProtobufDecoderTests {
    @Test func configMap() throws {
        let body = ProtobufWriter.body("v1", "ConfigMap") { w in
            writeObjectMeta(&w, name: "c", namespace: "default", labels: [("app", "web")])
            w.entry(2, "a", "b")
            w.entry(2, "empty", "")
            w.bool(4, false)  // immutable (a pointer): explicit false is kept
        }
        let decoded = try ProtobufDecoder.decode(body)
        #expect(decoded == (try protobufExpectedJSON("""
            {"apiVersion": "v1", "kind": "ConfigMap",
             "metadata": {"name": "c", "namespace": "default", "labels": {"app": "web"}},
             "data": {"a": "b", "empty": ""}, "immutable": false}
            """)))
    }

    @Test func secretBytesBecomeBase64() throws {
        let body = ProtobufWriter.body("v1", "Secret") { w in
            writeObjectMeta(&w, name: "s")
            w.entry(2, "p") { $0.bytes(2, [0xFF, 0x00, UInt8(ascii: "q")]) }
            w.entry(2, "text") { $0.bytes(2, Array("hello".utf8)) }
            w.entry(4, "plain", "visible")
            w.string(3, "Opaque")
        }
        let decoded = try ProtobufDecoder.decode(body)
        #expect(decoded == (try protobufExpectedJSON("""
            {"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "s"},
             "data": {"p": "/wBx", "text": "aGVsbG8="}, "stringData": {"plain": "visible"}, "type": "Opaque"}
            """)))
    }

    @Test func namespace() throws {
        let body = ProtobufWriter.body("v1", "Namespace") { w in
            writeObjectMeta(&w, name: "x")
            w.message(2) { $0.string(1, "kubernetes") }
            w.message(3) { $0.string(1, "") }
        }
        let decoded = try ProtobufDecoder.decode(body)
        #expect(decoded == (try protobufExpectedJSON("""
            {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "x"},
             "spec": {"finalizers": ["kubernetes"]}, "status": {}}
            """)))
    }

    @Test func deploymentWithPodTemplate() throws {
        let body = ProtobufWriter.body("apps/v1", "Deployment") { w in
            w.message(1) { m in
                m.string(1, "d")
                m.message(8) { $0.int(1, 1_714_979_289); $0.int(2, 5) }
                m.entry(11, "app", "d")
            }
            w.message(2) { spec in
                spec.int(1, 0)  // replicas (a pointer): explicit zero is kept
                spec.message(2) { $0.entry(1, "app", "d") }
                spec.message(3) { template in
                    writeObjectMeta(&template, name: "", labels: [("app", "d")])
                    template.message(2) { pod in
                        pod.message(1) { v in  // Volume: name + embedded VolumeSource
                            v.string(1, "config")
                            v.message(2) { source in
                                source.message(19) { cm in  // configMap
                                    cm.message(1) { $0.string(1, "settings") }  // embedded LocalObjectReference
                                    cm.int(3, 420)
                                }
                            }
                        }
                        pod.message(2) { c in  // containers
                            c.string(1, "busybox")
                            c.string(2, "busybox:1.35")
                            c.string(3, "sh")
                            c.string(3, "-c")
                            c.message(6) { port in
                                port.string(1, "")
                                port.int(2, 0)
                                port.int(3, 80)
                                port.string(4, "TCP")
                            }
                            c.message(7) { env in
                                env.string(1, "A")
                                env.string(2, "1")
                            }
                            c.message(7) { env in
                                env.string(1, "NODE")
                                env.string(2, "")
                                env.message(3) { $0.message(1) { $0.string(1, "v1"); $0.string(2, "spec.nodeName") } }
                            }
                            c.message(8) { resources in
                                resources.entry(1, "cpu") { $0.message(2) { $0.string(1, "500m") } }
                                resources.entry(2, "memory") { $0.message(2) { $0.string(1, "64Mi") } }
                            }
                            c.message(10) { probe in  // livenessProbe: embedded ProbeHandler with httpGet
                                probe.message(1) { handler in
                                    handler.message(2) { get in
                                        get.string(1, "/healthz")
                                        get.message(2) { $0.int(1, 1); $0.int(2, 0); $0.string(3, "http") }
                                    }
                                }
                                probe.int(2, 0)
                                probe.int(4, 10)
                            }
                            c.string(13, "")  // terminationMessagePath: zero, dropped
                            c.string(14, "IfNotPresent")
                            c.bool(16, false)  // stdin: zero, dropped
                        }
                        pod.string(3, "Always")
                        pod.int(4, 30)  // terminationGracePeriodSeconds (a pointer)
                        pod.message(14) { sc in  // securityContext.supplementalGroups, packed then unpacked
                            var packed = ProtobufWriter()
                            packed.varint(1000)
                            packed.varint(2000)
                            sc.bytes(4, packed.bytes)
                            sc.int(4, 3000)
                        }
                    }
                }
                spec.message(4) { strategy in
                    strategy.string(1, "RollingUpdate")
                    strategy.message(2) { rolling in
                        rolling.message(1) { $0.int(1, 0); $0.int(2, 1); $0.string(3, "") }
                        rolling.message(2) { $0.int(1, 1); $0.int(2, 0); $0.string(3, "25%") }
                    }
                }
                spec.int(5, 0)
                spec.bool(7, false)
                spec.int(9, -1)  // progressDeadlineSeconds: a negative int32 as a ten-byte varint
            }
            w.message(3) { $0.int(1, 0) }
        }
        let decoded = try ProtobufDecoder.decode(body)
        #expect(decoded == (try protobufExpectedJSON("""
            {"apiVersion": "apps/v1", "kind": "Deployment",
             "metadata": {"name": "d", "labels": {"app": "d"}, "creationTimestamp": "2024-05-06T07:08:09Z"},
             "spec": {
               "replicas": 0,
               "selector": {"matchLabels": {"app": "d"}},
               "template": {
                 "metadata": {"labels": {"app": "d"}},
                 "spec": {
                   "volumes": [{"name": "config", "configMap": {"name": "settings", "defaultMode": 420}}],
                   "containers": [{
                     "name": "busybox", "image": "busybox:1.35", "command": ["sh", "-c"],
                     "ports": [{"containerPort": 80, "protocol": "TCP"}],
                     "env": [{"name": "A", "value": "1"},
                             {"name": "NODE", "valueFrom": {"fieldRef": {"apiVersion": "v1", "fieldPath": "spec.nodeName"}}}],
                     "resources": {"limits": {"cpu": "500m"}, "requests": {"memory": "64Mi"}},
                     "livenessProbe": {"httpGet": {"path": "/healthz", "port": "http"}, "periodSeconds": 10},
                     "imagePullPolicy": "IfNotPresent"
                   }],
                   "restartPolicy": "Always",
                   "terminationGracePeriodSeconds": 30,
                   "securityContext": {"supplementalGroups": [1000, 2000, 3000]}
                 }
               },
               "strategy": {"type": "RollingUpdate", "rollingUpdate": {"maxUnavailable": 1, "maxSurge": "25%"}},
               "progressDeadlineSeconds": -1
             },
             "status": {}}
            """)))
    }

    @Test func unknownFieldsAreSkipped() throws {
        let plain = ProtobufWriter.body("v1", "ConfigMap") { w in
            writeObjectMeta(&w, name: "c")
            w.entry(2, "a", "b")
        }
        let noisy = ProtobufWriter.body("v1", "ConfigMap") { w in
            w.int(99, -5)
            w.fixed64(98, 0x0102_0304_0506_0708)
            writeObjectMeta(&w, name: "c")
            w.message(97) { $0.string(1, "from a newer Kubernetes") }
            w.fixed32(96, 7)
            w.message(1) { $0.int(50, 1); $0.string(51, "x") }  // unknown ObjectMeta fields; the message merges
            w.entry(2, "a", "b")
        }
        #expect(try ProtobufDecoder.decode(noisy) == (try ProtobufDecoder.decode(plain)))
    }

    @Test func roleAndService() throws {
        let role = ProtobufWriter.body("rbac.authorization.k8s.io/v1", "Role") { w in
            writeObjectMeta(&w, name: "r")
            w.message(2) { rule in
                rule.string(1, "get")
                rule.string(2, "")
                rule.string(3, "pods")
            }
        }
        #expect(try ProtobufDecoder.decode(role) == (try protobufExpectedJSON("""
            {"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "Role", "metadata": {"name": "r"},
             "rules": [{"verbs": ["get"], "apiGroups": [""], "resources": ["pods"]}]}
            """)))
        let service = ProtobufWriter.body("v1", "Service") { w in
            writeObjectMeta(&w, name: "svc")
            w.message(2) { spec in
                spec.message(1) { port in
                    port.string(1, "80-8080")
                    port.string(2, "TCP")
                    port.int(3, 80)
                    port.message(4) { $0.int(1, 0); $0.int(2, 8080); $0.string(3, "") }
                    port.int(5, 0)
                }
                spec.entry(2, "app", "svc")
                spec.string(4, "ClusterIP")
            }
            w.message(3) { $0.message(1) }
        }
        #expect(try ProtobufDecoder.decode(service) == (try protobufExpectedJSON("""
            {"apiVersion": "v1", "kind": "Service", "metadata": {"name": "svc"},
             "spec": {"ports": [{"name": "80-8080", "protocol": "TCP", "port": 80, "targetPort": 8080}],
                      "selector": {"app": "svc"}, "type": "ClusterIP"},
             "status": {"loadBalancer": {}}}
            """)))
    }

    @Test func bodyDecoderRoutesProtobuf() throws {
        let body = ProtobufWriter.body("v1", "ServiceAccount") { writeObjectMeta(&$0, name: "sa") }
        let decoded = try BodyDecoder.decode(body, contentType: "application/vnd.kubernetes.protobuf")
        #expect(decoded == (try protobufExpectedJSON(#"{"apiVersion": "v1", "kind": "ServiceAccount", "metadata": {"name": "sa"}}"#)))
    }

    static let deployment = ProtobufWriter.body("apps/v1", "Deployment") { w in
        writeObjectMeta(&w, name: "d", labels: [("app", "d")])
        w.message(2) { $0.int(1, 3) }
    }

    @Test(arguments: [0, 3, 8, 12, deployment.count / 2, deployment.count - 3, deployment.count - 1])
    func truncatedBodyIsRejected(length: Int) {
        #expect(throws: APIError.self) { try ProtobufDecoder.decode(Array(Self.deployment.prefix(length))) }
        do {
            _ = try ProtobufDecoder.decode(Array(Self.deployment.prefix(length)))
        } catch let error as APIError {
            #expect(error.code == 400)
        } catch {
            Issue.record("unexpected error \(error)")
        }
    }

    @Test func malformedBodiesAreRejected() {
        let wrongWireType = ProtobufWriter.body("v1", "ConfigMap") { $0.message(1) { $0.int(1, 7) } }
        let unknownKind = ProtobufWriter.body("v1", "Gizmo") { writeObjectMeta(&$0, name: "g") }
        let overlong = ProtobufDecoder.magic + [0x12, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x01]
        for body in [Array("{\"kind\":\"ConfigMap\"}".utf8), wrongWireType, unknownKind, overlong] {
            #expect(throws: APIError.self) { try ProtobufDecoder.decode(body) }
        }
    }

    @Test(arguments: [
        (Int64(0), Int64(0), false, "1970-01-01T00:00:00Z"),
        (1_714_979_289, 123_456_789, true, "2024-05-06T07:08:09.123456Z"),
        (951_825_600, 0, false, "2000-02-29T12:00:00Z"),
        (-1, 0, false, "1969-12-31T23:59:59Z"),
        (253_402_300_799, 999_999_999, true, "9999-12-31T23:59:59.999999Z"),
    ])
    func timestamps(seconds: Int64, nanos: Int64, micro: Bool, expected: String) {
        #expect(ProtobufTimestamp.format(seconds: seconds, nanos: nanos, microseconds: micro) == expected)
    }

    @Test func fieldTableCoversTheGeneratorKinds() {
        let kinds = [
            ("v1", "Namespace"), ("v1", "ConfigMap"), ("v1", "Secret"), ("v1", "ServiceAccount"), ("v1", "Service"),
            ("v1", "ResourceQuota"), ("apps/v1", "Deployment"), ("batch/v1", "Job"), ("batch/v1", "CronJob"),
            ("rbac.authorization.k8s.io/v1", "Role"), ("rbac.authorization.k8s.io/v1", "RoleBinding"),
            ("rbac.authorization.k8s.io/v1", "ClusterRole"), ("rbac.authorization.k8s.io/v1", "ClusterRoleBinding"),
            ("policy/v1", "PodDisruptionBudget"),
        ]
        for (apiVersion, kind) in kinds {
            let definition = OpenAPISchema.definitionName(apiVersion: apiVersion, kind: kind)
            #expect(definition.flatMap { ProtobufFieldTable.messages[$0] } != nil, "\(apiVersion) \(kind)")
        }
        // Every message a table entry reaches through the schema has a table entry too.
        var missing: [String] = []
        for (name, fields) in ProtobufFieldTable.messages where OpenAPISchema.definitions[name] != nil {
            for field in fields.values where field.kind != .inline {
                var shape = ProtobufShape.property(field.name, of: name)
                while case .list(let inner)? = shape { shape = inner }
                if case .map(let inner)? = shape { shape = inner }
                if case .message(let ref)? = shape, !ProtobufDecoder.isWellKnown(ref), ProtobufFieldTable.messages[ref] == nil {
                    missing.append("\(name).\(field.name) → \(ref)")
                }
            }
        }
        #expect(missing.isEmpty, "\(missing)")
    }
}


/// A request body captured from kubectl v1.32.4 (`-v=9`), and the JSON the same command
/// prints with `--dry-run=client -o json` (nulls removed).
struct KubectlBody: Sendable, CustomTestStringConvertible {
    var command: String
    var hex: String
    var json: String
    init(_ command: String, _ hex: String, _ json: String) {
        self.command = command
        self.hex = hex
        self.json = json
    }
    var testDescription: String { command }
    var bytes: [UInt8] {
        var out: [UInt8] = []
        var i = hex.startIndex
        while i < hex.endIndex {
            let j = hex.index(i, offsetBy: 2)
            out.append(UInt8(hex[i..<j], radix: 16)!)
            i = j
        }
        return out
    }

    static let all: [KubectlBody] = [
        KubectlBody(
            "kubectl create namespace ns1",
            "6b3873000a0f0a02763112094e616d657370616365121b0a130a036e733112001a0022002a0032003800420012001a02" +
            "0a001a002200",
            #"{"apiVersion":"v1","kind":"Namespace","metadata":{"name":"ns1"},"spec":{},"status":{}}"#),
        KubectlBody(
            "kubectl create configmap cm1 --from-literal=a=b --from-literal=c=d --from-file=bin=<file: bytes 00 01 ff 'bin'>",
            "6b3873000a0f0a0276311209436f6e6669674d617012340a130a03636d3112001a0022002a0032003800420012060a01" +
            "6112016212060a01631201641a0d0a0362696e12060001ff62696e1a002200",
            #"{"apiVersion":"v1","binaryData":{"bin":"AAH/Ymlu"},"data":{"a":"b","c":"d"},"kind":"ConfigMap","metadata":{"name":"cm1"}}"#),
        KubectlBody(
            "kubectl create secret generic sec1 --from-literal=p=q --from-file=bin=<file: bytes 00 01 ff 'bin'> --type=Opaque",
            "6b3873000a0c0a027631120653656372657412350a140a047365633112001a0022002a00320038004200120d0a036269" +
            "6e12060001ff62696e12060a01701201711a064f70617175651a002200",
            #"{"apiVersion":"v1","data":{"bin":"AAH/Ymlu","p":"cQ=="},"kind":"Secret","metadata":{"name":"sec1"},"type":"Opaque"}"#),
        KubectlBody(
            "kubectl create serviceaccount sa1",
            "6b3873000a140a027631120e536572766963654163636f756e7412150a130a0373613112001a0022002a003200380042" +
            "001a002200",
            #"{"apiVersion":"v1","kind":"ServiceAccount","metadata":{"name":"sa1"}}"#),
        KubectlBody(
            "kubectl create deployment dep1 --image=busybox --replicas=0 --port=8080",
            "6b3873000a150a07617070732f7631120a4465706c6f796d656e7412c1010a210a046465703112001a0022002a003200" +
            "380042005a0b0a03617070120464657031128d010800120d0a0b0a036170701204646570311a720a1d0a0012001a0022" +
            "002a003200380042005a0b0a03617070120464657031125112330a0762757379626f78120762757379626f782a00320b" +
            "0a00100018903f22002a0042006a007200800100880100900100a201001a00320042004a005200580060006800820100" +
            "8a01009a0100c2010022020a00280038001a0c0800100018002000280038001a002200",
            #"{"apiVersion":"apps/v1","kind":"Deployment","metadata":{"labels":{"app":"dep1"},"name":"dep1"},"spec":{"replicas":0,"selector":{"matchLabels":{"app":"dep1"}},"strategy":{},"template":{"metadata":{"labels":{"app":"dep1"}},"spec":{"containers":[{"image":"busybox","name":"busybox","ports":[{"containerPort":8080}],"resources":{}}]}}},"status":{}}"#),
        KubectlBody(
            "kubectl create job job2 --image=busybox -- echo hi",
            "6b3873000a0f0a0862617463682f763112034a6f621288010a140a046a6f623212001a0022002a003200380042001266" +
            "32640a100a0012001a0022002a003200380042001250122d0a046a6f6232120762757379626f781a046563686f1a0268" +
            "692a0042006a007200800100880100900100a201001a054e65766572320042004a0052005800600068008201008a0100" +
            "9a0100c201001a082000280030003a001a002200",
            #"{"apiVersion":"batch/v1","kind":"Job","metadata":{"name":"job2"},"spec":{"template":{"metadata":{},"spec":{"containers":[{"command":["echo","hi"],"image":"busybox","name":"job2","resources":{}}],"restartPolicy":"Never"}}},"status":{}}"#),
        KubectlBody(
            "kubectl create cronjob cj1 --image=busybox --schedule=@hourly --restart=OnFailure -- date",
            "6b3873000a130a0862617463682f7631120743726f6e4a6f6212a3010a130a03636a3112001a0022002a003200380042" +
            "001289010a0740686f75726c791a002a7c0a130a03636a3112001a0022002a00320038004200126532630a100a001200" +
            "1a0022002a00320038004200124f12280a03636a31120762757379626f781a04646174652a0042006a00720080010088" +
            "0100900100a201001a094f6e4661696c757265320042004a0052005800600068008201008a01009a0100c201001a001a" +
            "002200",
            #"{"apiVersion":"batch/v1","kind":"CronJob","metadata":{"name":"cj1"},"spec":{"jobTemplate":{"metadata":{"name":"cj1"},"spec":{"template":{"metadata":{},"spec":{"containers":[{"command":["date"],"image":"busybox","name":"cj1","resources":{}}],"restartPolicy":"OnFailure"}}}},"schedule":"@hourly"},"status":{}}"#),
        KubectlBody(
            "kubectl create role role1 --verb=get,list --resource=pods,deployments.apps --resource-name=x",
            "6b3873000a240a1c726261632e617574686f72697a6174696f6e2e6b38732e696f2f76311204526f6c6512520a150a05" +
            "726f6c653112001a0022002a0032003800420012160a036765740a046c69737412001a04706f647322017812210a0367" +
            "65740a046c6973741204617070731a0b6465706c6f796d656e74732201781a002200",
            #"{"apiVersion":"rbac.authorization.k8s.io/v1","kind":"Role","metadata":{"name":"role1"},"rules":[{"apiGroups":[""],"resourceNames":["x"],"resources":["pods"],"verbs":["get","list"]},{"apiGroups":["apps"],"resourceNames":["x"],"resources":["deployments"],"verbs":["get","list"]}]}"#),
        KubectlBody(
            "kubectl create rolebinding rb1 --role=role1 --user=alice --serviceaccount=default:sa1 --group=g",
            "6b3873000a2b0a1c726261632e617574686f72697a6174696f6e2e6b38732e696f2f7631120b526f6c6542696e64696e" +
            "6712b6010a130a0372623112001a0022002a00320038004200122a0a04557365721219726261632e617574686f72697a" +
            "6174696f6e2e6b38732e696f1a05616c696365220012270a0547726f75701219726261632e617574686f72697a617469" +
            "6f6e2e6b38732e696f1a0167220012200a0e536572766963654163636f756e7412001a03736131220764656661756c74" +
            "1a280a19726261632e617574686f72697a6174696f6e2e6b38732e696f1204526f6c651a05726f6c65311a002200",
            #"{"apiVersion":"rbac.authorization.k8s.io/v1","kind":"RoleBinding","metadata":{"name":"rb1"},"roleRef":{"apiGroup":"rbac.authorization.k8s.io","kind":"Role","name":"role1"},"subjects":[{"apiGroup":"rbac.authorization.k8s.io","kind":"User","name":"alice"},{"apiGroup":"rbac.authorization.k8s.io","kind":"Group","name":"g"},{"kind":"ServiceAccount","name":"sa1","namespace":"default"}]}"#),
        KubectlBody(
            "kubectl create clusterrole cr2 --aggregation-rule=rbac.example.com/aggregate=true",
            "6b3873000a2b0a1c726261632e617574686f72697a6174696f6e2e6b38732e696f2f7631120b436c7573746572526f6c" +
            "65123d0a130a0363723212001a0022002a003200380042001a260a240a220a1a726261632e6578616d706c652e636f6d" +
            "2f6167677265676174651204747275651a002200",
            #"{"aggregationRule":{"clusterRoleSelectors":[{"matchLabels":{"rbac.example.com/aggregate":"true"}}]},"apiVersion":"rbac.authorization.k8s.io/v1","kind":"ClusterRole","metadata":{"name":"cr2"}}"#),
        KubectlBody(
            "kubectl create service nodeport svc2 --tcp=80:http --node-port=30080",
            "6b3873000a0d0a02763112075365727669636512700a210a047376633212001a0022002a003200380042005a0b0a0361" +
            "707012047376633212470a200a0738302d6874747012035443501850220a080110001a04687474702880eb01120b0a03" +
            "6170701204737663321a0022084e6f6465506f72743a00420052005a00600068001a020a001a002200",
            #"{"apiVersion":"v1","kind":"Service","metadata":{"labels":{"app":"svc2"},"name":"svc2"},"spec":{"ports":[{"name":"80-http","nodePort":30080,"port":80,"protocol":"TCP","targetPort":"http"}],"selector":{"app":"svc2"},"type":"NodePort"},"status":{"loadBalancer":{}}}"#),
        KubectlBody(
            "kubectl create quota quota1 --hard=cpu=1,memory=1G,pods=2 --scopes=BestEffort",
            "6b3873000a130a027631120d5265736f7572636551756f746112510a160a0671756f74613112001a0022002a00320038" +
            "00420012350a0a0a0363707512030a01310a0e0a066d656d6f727912040a0231470a0b0a04706f647312030a0132120a" +
            "426573744566666f72741a001a002200",
            #"{"apiVersion":"v1","kind":"ResourceQuota","metadata":{"name":"quota1"},"spec":{"hard":{"cpu":"1","memory":"1G","pods":"2"},"scopes":["BestEffort"]},"status":{}}"#),
        KubectlBody(
            "kubectl create poddisruptionbudget pdb1 --selector=app=x --min-available=0",
            "6b3873000a200a09706f6c6963792f76311213506f6444697372757074696f6e42756467657412380a140a0470646231" +
            "12001a0022002a0032003800420012140a06080010001a00120a0a080a036170701201781a0a08001800200028003000" +
            "1a002200",
            #"{"apiVersion":"policy/v1","kind":"PodDisruptionBudget","metadata":{"name":"pdb1"},"spec":{"minAvailable":0,"selector":{"matchLabels":{"app":"x"}}},"status":{"currentHealthy":0,"desiredHealthy":0,"disruptionsAllowed":0,"expectedPods":0}}"#),
    ]
}

extension ProtobufDecoderTests {
    @Test(arguments: KubectlBody.all)
    func kubectlBodiesDecodeToKubectlJSON(_ body: KubectlBody) throws {
        #expect(try ProtobufDecoder.decode(body.bytes) == (try JSONValue.parse(body.json)))
    }
}
