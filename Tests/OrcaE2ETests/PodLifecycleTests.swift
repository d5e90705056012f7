import Foundation
import OrcaCore
import Testing

/// Issue 5's pod lifecycle through the real agent and kubectl: restarts under back-off, init
/// and sidecar containers, probes, lifecycle hooks, agent restarts and OOM kills. Waits are
/// liveness deadlines, never timing assertions.
@Suite(.serialized) struct PodLifecycleTests {
    @Test func crashLoopBackOffWithGrowingRestartCount() throws {
        let (s, bridge) = try PodTests.agentServer()
        defer { PodTests.shutdown(s, bridge: bridge) }
        _ = try s.k("run", "crasher", "--image=docker.io/library/busybox:1.35", "--", "sh", "-c", "echo crashing; exit 3")
        func field(_ path: String) throws -> String {
            try s.k("get", "pod", "crasher", "-o", "jsonpath={.status.containerStatuses[0].\(path)}")
        }
        try s.eventually("CrashLoopBackOff after a restart", timeout: 60) {
            try field("state.waiting.reason") == "CrashLoopBackOff" && (Int(try field("restartCount")) ?? 0) >= 1
        }
        let first = Int(try field("restartCount")) ?? 0
        #expect(try field("state.waiting.message").contains("back-off 10s restarting failed container=crasher pod=crasher_default("))
        #expect(try field("lastState.terminated.exitCode") == "3")
        #expect(try s.k("get", "pod", "crasher").contains("CrashLoopBackOff"))
        try s.eventually("the restart count grows", timeout: 90) { (Int(try field("restartCount")) ?? 0) > first }
        try s.eventually("a longer back-off", timeout: 90) { try field("state.waiting.message").contains("back-off 20s") }
        try s.eventually("BackOff event") {
            try s.k("get", "events", "--field-selector", "involvedObject.name=crasher,reason=BackOff").contains("Back-off restarting failed container crasher")
        }
        #expect(try s.k("logs", "crasher", "--previous").contains("crashing"))
    }

    /// A host directory the test and the pod's containers share (a gate the test opens, files
    /// the containers write).
    static func gateDirectory(_ s: OrcaServerProcess, _ name: String) throws -> String {
        let dir = s.dataDir + "/gate-\(name)"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o777])
        return dir
    }

    static func read(_ path: String) -> String { (try? String(contentsOfFile: path, encoding: .utf8)) ?? "" }

    /// `activeDeadlineSeconds` (issue 15): a pod running past it fails with reason
    /// `DeadlineExceeded` and its containers are stopped.
    @Test func aPodPastItsActiveDeadlineFails() throws {
        let (s, bridge) = try PodTests.agentServer()
        defer { PodTests.shutdown(s, bridge: bridge) }
        _ = try s.k("apply", "-f", "-", stdin: """
            {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "deadline"},
             "spec": {"activeDeadlineSeconds": 3, "terminationGracePeriodSeconds": 1, "containers": [{"name": "c", "image": "docker.io/library/busybox:1.35", "command": ["sleep", "3600"]}]}}
            """)
        try s.eventually("the pod fails with DeadlineExceeded", timeout: 90) {
            try s.k("get", "pod", "deadline", "-o", "jsonpath={.status.phase}/{.status.reason}") == "Failed/DeadlineExceeded"
        }
        #expect(try s.k("get", "pod", "deadline", "-o", "jsonpath={.status.message}") == "Pod was active on the node longer than the specified deadline")
        try s.eventually("its container is stopped", timeout: 60) {
            try s.k("get", "pod", "deadline", "-o", "jsonpath={.status.containerStatuses[0].state.terminated.reason}").isEmpty == false
        }
    }

    @Test func initContainersRunInOrderBeforeTheApp() throws {
        let (s, bridge) = try PodTests.agentServer()
        defer { PodTests.shutdown(s, bridge: bridge) }
        let gate = try Self.gateDirectory(s, "init")
        let pod = """
        apiVersion: v1
        kind: Pod
        metadata: {name: inits}
        spec:
          volumes:
          - {name: work, emptyDir: {}}
          - {name: gate, hostPath: {path: "\(gate)", type: Directory}}
          initContainers:
          - name: first
            image: docker.io/library/busybox:1.35
            command: ["sh", "-c", "echo first >> /work/log"]
            volumeMounts: [{name: work, mountPath: /work}]
          - name: flaky
            image: docker.io/library/busybox:1.35
            command: ["sh", "-c", "if [ -f /gate/tried ]; then echo second >> /work/log; else touch /gate/tried; exit 1; fi"]
            volumeMounts: [{name: work, mountPath: /work}, {name: gate, mountPath: /gate}]
          - name: gated
            image: docker.io/library/busybox:1.35
            command: ["sh", "-c", "until [ -f /gate/open ]; do sleep 0.2; done; echo third >> /work/log"]
            volumeMounts: [{name: work, mountPath: /work}, {name: gate, mountPath: /gate}]
          containers:
          - name: main
            image: docker.io/library/busybox:1.35
            command: ["sh", "-c", "echo main >> /work/log; cat /work/log; exec sleep 3600"]
            volumeMounts: [{name: work, mountPath: /work}]
        """
        _ = try s.k("apply", "-f", "-", stdin: pod)
        // The third init container waits at the gate: two of three done, the app not started.
        try s.eventually("Init:2/3", timeout: 60) { try s.k("get", "pod", "inits").contains("Init:2/3") }
        #expect(try s.k("get", "pod", "inits", "-o", "jsonpath={.status.phase}") == "Pending")
        #expect(try s.k("get", "pod", "inits", "-o", "jsonpath={.status.conditions[?(@.type=='Initialized')].status}") == "False")
        #expect(try s.k("get", "pod", "inits", "-o", "jsonpath={.status.containerStatuses[0].state.waiting.reason}") == "PodInitializing")
        #expect(try s.k("get", "pod", "inits", "-o", "jsonpath={.status.initContainerStatuses[1].restartCount}") == "1")
        #expect(try s.k("get", "pod", "inits", "-o", "jsonpath={.status.initContainerStatuses[0].state.terminated.reason}") == "Completed")
        FileManager.default.createFile(atPath: gate + "/open", contents: nil)
        _ = try s.k("wait", "--for=condition=Ready", "pod/inits", "--timeout=60s")
        try s.eventually("main output") { try s.k("logs", "inits", "-c", "main").contains("main") }
        #expect(try s.k("logs", "inits", "-c", "main") == "first\nsecond\nthird\nmain\n")
        #expect(try s.k("get", "pod", "inits", "-o", "jsonpath={.status.conditions[?(@.type=='Initialized')].status}") == "True")
        #expect(try s.k("get", "pod", "inits", "-o", "jsonpath={.status.initContainerStatuses[*].state.terminated.reason}") == "Completed Completed Completed")
        #expect(try s.k("get", "pod", "inits").contains("Running"))
    }

    @Test func failingInitContainerFailsANeverPod() throws {
        let (s, bridge) = try PodTests.agentServer()
        defer { PodTests.shutdown(s, bridge: bridge) }
        let pod = """
        apiVersion: v1
        kind: Pod
        metadata: {name: badinit}
        spec:
          restartPolicy: Never
          initContainers:
          - {name: check, image: docker.io/library/busybox:1.35, command: ["sh", "-c", "exit 4"]}
          containers:
          - {name: main, image: docker.io/library/busybox:1.35, command: ["sleep", "3600"]}
        """
        _ = try s.k("apply", "-f", "-", stdin: pod)
        _ = try s.k("wait", "--for=jsonpath={.status.phase}=Failed", "pod/badinit", "--timeout=60s")
        #expect(try s.k("get", "pod", "badinit", "-o", "jsonpath={.status.initContainerStatuses[0].state.terminated.exitCode}") == "4")
        #expect(try s.k("get", "pod", "badinit").contains("Init:Error"))
        #expect(try s.k("get", "pod", "badinit", "-o", "jsonpath={.status.containerStatuses[0].state.waiting.reason}") == "PodInitializing")
    }

    @Test func nativeSidecarRunsBesideTheAppAndStopsAfterIt() throws {
        let (s, bridge) = try PodTests.agentServer()
        defer { PodTests.shutdown(s, bridge: bridge) }
        let gate = try Self.gateDirectory(s, "sidecar")
        let pods = """
        apiVersion: v1
        kind: Pod
        metadata: {name: withsidecar}
        spec:
          terminationGracePeriodSeconds: 10
          volumes:
          - {name: gate, hostPath: {path: "\(gate)", type: Directory}}
          initContainers:
          - name: helper
            image: docker.io/library/busybox:1.35
            restartPolicy: Always
            command: ["sh", "-c", "echo run >> /gate/sidecar-runs; echo from-sidecar > /tmp/index.html; httpd -p 8080 -h /tmp; trap 'echo sidecar-stop >> /gate/order; exit 0' TERM; while [ ! -f /gate/crash ]; do sleep 0.2; done; rm -f /gate/crash; exit 1"]
            volumeMounts: [{name: gate, mountPath: /gate}]
          containers:
          - name: main
            image: docker.io/library/busybox:1.35
            command: ["sh", "-c", "wget -q -O - http://localhost:8080/; trap 'echo main-stop >> /gate/order; exit 0' TERM; while true; do sleep 0.2; done"]
            volumeMounts: [{name: gate, mountPath: /gate}]
        ---
        apiVersion: v1
        kind: Pod
        metadata: {name: jobish}
        spec:
          restartPolicy: Never
          terminationGracePeriodSeconds: 2
          initContainers:
          - {name: side, image: docker.io/library/busybox:1.35, restartPolicy: Always, command: ["sleep", "3600"]}
          containers:
          - {name: work, image: docker.io/library/busybox:1.35, command: ["sh", "-c", "echo done"]}
        """
        _ = try s.k("apply", "-f", "-", stdin: pods)
        _ = try s.k("wait", "--for=condition=Ready", "pod/withsidecar", "--timeout=60s")
        try s.eventually("main output") { try s.k("logs", "withsidecar", "-c", "main").contains("from-sidecar") }
        #expect(try s.k("get", "pod", "withsidecar", "-o", "jsonpath={.status.initContainerStatuses[0].started}") == "true")
        // The sidecar crashes: it is restarted, the app container is not.
        FileManager.default.createFile(atPath: gate + "/crash", contents: nil)
        try s.eventually("sidecar restarted") {
            try s.k("get", "pod", "withsidecar", "-o", "jsonpath={.status.initContainerStatuses[0].restartCount}") == "1"
                && Self.read(gate + "/sidecar-runs") == "run\nrun\n"
        }
        #expect(try s.k("get", "pod", "withsidecar", "-o", "jsonpath={.status.containerStatuses[0].restartCount}") == "0")
        _ = try s.k("wait", "--for=condition=Ready", "pod/withsidecar", "--timeout=60s")
        // The sidecar does not keep a run-to-completion pod alive.
        _ = try s.k("wait", "--for=jsonpath={.status.phase}=Succeeded", "pod/jobish", "--timeout=60s")
        try s.eventually("sidecar of the finished pod stopped") {
            try !s.k("get", "pod", "jobish", "-o", "jsonpath={.status.initContainerStatuses[0].state.terminated.finishedAt}").isEmpty
        }
        // Deletion stops the app container first, then the sidecar.
        _ = try s.k("delete", "pod", "withsidecar", "--wait=true", "--timeout=60s")
        #expect(Self.read(gate + "/order") == "main-stop\nsidecar-stop\n")
    }

    @Test func readinessFollowsExecHTTPAndTCPProbes() throws {
        let (s, bridge) = try PodTests.agentServer()
        defer { PodTests.shutdown(s, bridge: bridge) }
        let gate = try Self.gateDirectory(s, "ready")
        try FileManager.default.createDirectory(atPath: gate + "/www", withIntermediateDirectories: true)
        let pod = """
        apiVersion: v1
        kind: Pod
        metadata: {name: probed}
        spec:
          volumes:
          - {name: gate, hostPath: {path: "\(gate)", type: Directory}}
          containers:
          - name: exec
            image: docker.io/library/busybox:1.35
            command: ["sh", "-c", "trap 'exit 0' TERM; while true; do sleep 0.2; done"]
            volumeMounts: [{name: gate, mountPath: /gate}]
            readinessProbe: {exec: {command: ["test", "-f", "/gate/exec-ready"]}, periodSeconds: 1, failureThreshold: 1}
          - name: web
            image: docker.io/library/busybox:1.35
            command: ["httpd", "-f", "-p", "8080", "-h", "/gate/www"]
            ports: [{name: http, containerPort: 8080}]
            volumeMounts: [{name: gate, mountPath: /gate}]
            readinessProbe:
              httpGet: {path: /ok.html, port: http, httpHeaders: [{name: X-Probe, value: "yes"}]}
              periodSeconds: 1
              failureThreshold: 1
          - name: tcp
            image: docker.io/library/busybox:1.35
            command:
            - sh
            - -c
            - |
              trap 'exit 0' TERM
              while true; do
                if [ -f /gate/listen ]; then [ -z "$P" ] && { httpd -f -p 9000 & P=$!; }
                elif [ -n "$P" ]; then kill $P; P=; fi
                sleep 0.2
              done
            volumeMounts: [{name: gate, mountPath: /gate}]
            readinessProbe: {tcpSocket: {port: 9000}, periodSeconds: 1, failureThreshold: 1, successThreshold: 2}
        """
        _ = try s.k("apply", "-f", "-", stdin: pod)
        func ready(_ i: Int) throws -> String {
            try s.k("get", "pod", "probed", "-o", "jsonpath={.status.containerStatuses[\(i)].ready}")
        }
        func podReady() throws -> String {
            try s.k("get", "pod", "probed", "-o", "jsonpath={.status.conditions[?(@.type=='Ready')].status}")
        }
        _ = try s.k("wait", "--for=jsonpath={.status.phase}=Running", "pod/probed", "--timeout=60s")
        try s.eventually("unready probes reported") {
            try s.k("get", "events", "--field-selector", "involvedObject.name=probed,reason=Unhealthy").contains("Readiness probe failed: HTTP probe failed with statuscode: 404")
        }
        #expect(try [ready(0), ready(1), ready(2)] == ["false", "false", "false"])
        #expect(try podReady() == "False")
        #expect(try s.k("get", "pod", "probed", "-o", "jsonpath={.status.containerStatuses[0].started}") == "true")
        FileManager.default.createFile(atPath: gate + "/exec-ready", contents: nil)
        try s.eventually("exec readiness") { try ready(0) == "true" }
        try "ok\n".write(toFile: gate + "/www/ok.html", atomically: true, encoding: .utf8)
        try s.eventually("httpGet readiness") { try ready(1) == "true" }
        #expect(try podReady() == "False")
        FileManager.default.createFile(atPath: gate + "/listen", contents: nil)
        try s.eventually("tcpSocket readiness") { try ready(2) == "true" }
        try s.eventually("pod Ready") { try podReady() == "True" }
        #expect(try s.k("get", "pod", "probed").contains("3/3"))
        // Readiness goes away again, one probe at a time.
        try FileManager.default.removeItem(atPath: gate + "/exec-ready")
        try s.eventually("exec unready") { try ready(0) == "false" && podReady() == "False" }
        try FileManager.default.removeItem(atPath: gate + "/listen")
        try s.eventually("tcp unready") { try ready(2) == "false" }
        try FileManager.default.removeItem(atPath: gate + "/www/ok.html")
        try s.eventually("http unready") { try ready(1) == "false" }
        #expect(try s.k("get", "events", "--field-selector", "involvedObject.name=probed,reason=Unhealthy").contains("connect: connection refused"))
        for i in 0..<3 { #expect(try s.k("get", "pod", "probed", "-o", "jsonpath={.status.containerStatuses[\(i)].restartCount}") == "0") }
    }

    @Test func livenessFailureRestartsAndStartupProbeHoldsBack() throws {
        let (s, bridge) = try PodTests.agentServer()
        defer { PodTests.shutdown(s, bridge: bridge) }
        let gate = try Self.gateDirectory(s, "live")
        FileManager.default.createFile(atPath: gate + "/alive", contents: nil)
        let pod = """
        apiVersion: v1
        kind: Pod
        metadata: {name: lively}
        spec:
          volumes:
          - {name: gate, hostPath: {path: "\(gate)", type: Directory}}
          containers:
          - name: app
            image: docker.io/library/busybox:1.35
            command: ["sh", "-c", "echo started >> /gate/app-runs; exec sleep 3600"]
            volumeMounts: [{name: gate, mountPath: /gate}]
            livenessProbe:
              exec: {command: ["test", "-f", "/gate/alive"]}
              periodSeconds: 1
              failureThreshold: 2
              terminationGracePeriodSeconds: 1
          - name: slow
            image: docker.io/library/busybox:1.35
            command: ["sleep", "3600"]
            volumeMounts: [{name: gate, mountPath: /gate}]
            startupProbe: {exec: {command: ["test", "-f", "/gate/started"]}, periodSeconds: 1, failureThreshold: 600}
            livenessProbe: {exec: {command: ["test", "-f", "/gate/started"]}, periodSeconds: 1, failureThreshold: 1}
        """
        _ = try s.k("apply", "-f", "-", stdin: pod)
        func field(_ i: Int, _ path: String) throws -> String {
            try s.k("get", "pod", "lively", "-o", "jsonpath={.status.containerStatuses[\(i)].\(path)}")
        }
        _ = try s.k("wait", "--for=jsonpath={.status.phase}=Running", "pod/lively", "--timeout=60s")
        try s.eventually("app ready") { try field(0, "ready") == "true" }
        try FileManager.default.removeItem(atPath: gate + "/alive")
        try s.eventually("liveness restart", timeout: 60) { try field(0, "restartCount") == "1" }
        FileManager.default.createFile(atPath: gate + "/alive", contents: nil)
        #expect(try field(0, "lastState.terminated.exitCode") == "137")
        let events = try s.k("get", "events", "--field-selector", "involvedObject.name=lively")
        #expect(events.contains("Liveness probe failed"))
        #expect(events.contains("Container app failed liveness probe, will be restarted"))
        try s.eventually("app running again") { try Self.read(gate + "/app-runs") == "started\nstarted\n" && field(0, "ready") == "true" }
        // The startup probe has not succeeded: the failing liveness probe of `slow` never ran.
        #expect(try field(1, "started") == "false")
        #expect(try field(1, "ready") == "false")
        #expect(try field(1, "restartCount") == "0")
        FileManager.default.createFile(atPath: gate + "/started", contents: nil)
        try s.eventually("slow started") { try field(1, "started") == "true" && field(1, "ready") == "true" }
        _ = try s.k("wait", "--for=condition=Ready", "pod/lively", "--timeout=60s")
        #expect(try field(1, "restartCount") == "0")
    }

    /// Whether Debian's `python3-grpcio` is installed (a real gRPC server for the grpc probe test).
    static let grpcPythonAvailable: Bool = {
        (try? OrcaServerProcess.run("/usr/bin/python3", ["-c", "import grpc"]).status) == 0
    }()

    /// A gRPC server with the `grpc.health.v1.Health` service (raw protobuf bytes): SERVING for
    /// the server as a whole, NOT_SERVING for the service `sick`.
    static let grpcHealthServer = """
    import grpc
    from concurrent import futures
    def check(request, context):
        service = request[2:2 + request[1]].decode() if len(request) > 1 and request[0] == 0x0A else ""
        return b"\\x08\\x01" if service == "" else b"\\x08\\x02"
    handler = grpc.method_handlers_generic_handler("grpc.health.v1.Health", {"Check": grpc.unary_unary_rpc_method_handler(check)})
    server = grpc.server(futures.ThreadPoolExecutor(max_workers=4))
    server.add_generic_rpc_handlers((handler,))
    server.add_insecure_port("0.0.0.0:9555")
    server.start()
    print("serving", flush=True)
    server.wait_for_termination()
    """

    @Test(.enabled(if: grpcPythonAvailable, "needs python3-grpcio")) func grpcReadinessProbe() throws {
        let (s, bridge) = try PodTests.agentServer()
        defer { PodTests.shutdown(s, bridge: bridge) }
        let pod = """
        apiVersion: v1
        kind: Pod
        metadata: {name: grpcprobed}
        spec:
          terminationGracePeriodSeconds: 1
          containers:
          - name: app
            image: docker.io/library/busybox:1.35
            command: ["sleep", "3600"]
            readinessProbe: {grpc: {port: 9555}, periodSeconds: 1}
          - name: sick
            image: docker.io/library/busybox:1.35
            command: ["sleep", "3600"]
            readinessProbe: {grpc: {port: 9555, service: sick}, periodSeconds: 1}
        """
        _ = try s.k("apply", "-f", "-", stdin: pod)
        _ = try s.k("wait", "--for=jsonpath={.status.phase}=Running", "pod/grpcprobed", "--timeout=60s")
        let uid = try s.k("get", "pod", "grpcprobed", "-o", "jsonpath={.metadata.uid}")
        try s.eventually("nothing listens yet") {
            try s.k("get", "events", "--field-selector", "involvedObject.name=grpcprobed,reason=Unhealthy").contains("connection refused")
        }
        // The server runs in the pod's network namespace, as a process of the pod would.
        let server = try BackgroundProcess("/usr/bin/nsenter", ["--net=\(s.dataDir)/run/netns/\(uid)", "/usr/bin/python3", "-c", Self.grpcHealthServer], env: [:])
        defer {
            // Processes spawned from the test runner inherit its blocked SIGTERM: kill outright.
            kill(server.process.processIdentifier, SIGKILL)
            server.stop()
        }
        try server.waitForOutput("gRPC server") { $0.contains("serving") }
        try s.eventually("grpc readiness") {
            try s.k("get", "pod", "grpcprobed", "-o", "jsonpath={.status.containerStatuses[0].ready}") == "true"
        }
        try s.eventually("NOT_SERVING reported") {
            try s.k("get", "events", "--field-selector", "involvedObject.name=grpcprobed,reason=Unhealthy").contains("service unhealthy (responded with \"NOT_SERVING\")")
        }
        #expect(try s.k("get", "pod", "grpcprobed", "-o", "jsonpath={.status.containerStatuses[1].ready}") == "false")
    }

    @Test func postStartAndPreStopHooksRunInOrder() throws {
        let (s, bridge) = try PodTests.agentServer()
        defer { PodTests.shutdown(s, bridge: bridge) }
        let gate = try Self.gateDirectory(s, "hooks")
        let pod = """
        apiVersion: v1
        kind: Pod
        metadata: {name: hooked}
        spec:
          terminationGracePeriodSeconds: 6
          volumes:
          - {name: shared, emptyDir: {}}
          - {name: gate, hostPath: {path: "\(gate)", type: Directory}}
          initContainers:
          - name: web
            image: docker.io/library/busybox:1.35
            restartPolicy: Always
            command:
            - sh
            - -c
            - |
              mkdir -p /srv/cgi-bin
              printf '#!/bin/sh\\necho "$QUERY_STRING" >> /gate/events\\necho Content-Type: text/plain\\necho\\necho ok\\n' > /srv/cgi-bin/hook
              chmod +x /srv/cgi-bin/hook
              exec httpd -f -p 8080 -h /srv
            volumeMounts: [{name: shared, mountPath: /srv}, {name: gate, mountPath: /gate}]
            lifecycle:
              postStart: {sleep: {seconds: 1}}
              preStop: {exec: {command: ["sh", "-c", "echo sidecar-prestop >> /gate/events"]}}
          containers:
          - name: main
            image: docker.io/library/busybox:1.35
            command: ["sh", "-c", "trap 'echo main-term >> /gate/events; exit 0' TERM; while true; do sleep 0.2; done"]
            volumeMounts: [{name: shared, mountPath: /shared}, {name: gate, mountPath: /gate}]
            lifecycle:
              postStart: {exec: {command: ["sh", "-c", "echo poststart-ran > /shared/poststart"]}}
              preStop: {httpGet: {path: "/cgi-bin/hook?main-prestop-http", port: 8080}}
          - name: reader
            image: docker.io/library/busybox:1.35
            command: ["sh", "-c", "trap 'exit 0' TERM; until wget -q -O - http://localhost:8080/poststart; do sleep 0.2; done; while true; do sleep 0.2; done"]
        """
        _ = try s.k("apply", "-f", "-", stdin: pod)
        _ = try s.k("wait", "--for=condition=Ready", "pod/hooked", "--timeout=60s")
        // postStart of `main` wrote into the emptyDir; another container reads it.
        try s.eventually("postStart observed by another container") { try s.k("logs", "hooked", "-c", "reader").contains("poststart-ran") }
        _ = try s.k("delete", "pod", "hooked", "--wait=true", "--timeout=60s")
        // preStop (an HTTP GET to the sidecar), then SIGTERM; the sidecar's preStop after the app stopped.
        #expect(Self.read(gate + "/events") == "main-prestop-http\nmain-term\nsidecar-prestop\n")
    }

    @Test func failingPostStartHookKillsTheContainer() throws {
        let (s, bridge) = try PodTests.agentServer()
        defer { PodTests.shutdown(s, bridge: bridge) }
        let pod = """
        apiVersion: v1
        kind: Pod
        metadata: {name: badhook}
        spec:
          containers:
          - name: c
            image: docker.io/library/busybox:1.35
            command: ["sleep", "3600"]
            lifecycle:
              postStart: {exec: {command: ["sh", "-c", "echo hook-broke; exit 3"]}}
        """
        _ = try s.k("apply", "-f", "-", stdin: pod)
        try s.eventually("FailedPostStartHook") {
            try s.k("get", "events", "--field-selector", "involvedObject.name=badhook,reason=FailedPostStartHook").contains("hook-broke")
        }
        try s.eventually("restarted by policy", timeout: 60) {
            (Int(try s.k("get", "pod", "badhook", "-o", "jsonpath={.status.containerStatuses[0].restartCount}")) ?? 0) >= 1
        }
        #expect(try s.k("get", "events", "--field-selector", "involvedObject.name=badhook,reason=Killing").contains("FailedPostStartHook"))
    }

    @Test func forceDeleteSkipsTheGracePeriod() throws {
        let (s, bridge) = try PodTests.agentServer()
        defer { PodTests.shutdown(s, bridge: bridge) }
        let pod = """
        apiVersion: v1
        kind: Pod
        metadata: {name: stubborn}
        spec:
          terminationGracePeriodSeconds: 120
          containers:
          - name: c
            image: docker.io/library/busybox:1.35
            command: ["sleep", "3600"]
            lifecycle:
              preStop: {sleep: {seconds: 100}}
        """
        _ = try s.k("apply", "-f", "-", stdin: pod)
        _ = try s.k("wait", "--for=condition=Ready", "pod/stubborn", "--timeout=60s")
        let uid = try s.k("get", "pod", "stubborn", "-o", "jsonpath={.metadata.uid}")
        let r = try s.kubectl(["delete", "pod", "stubborn", "--grace-period=0", "--force"])
        #expect(r.status == 0, "\(r.err)")
        #expect(try s.k("get", "pods", "-o", "name").isEmpty)
        // The graceful path would take 100 s of preStop and more: this deadline is far shorter.
        try s.eventually("containers gone", timeout: 30) {
            try OrcaServerProcess.run("/usr/sbin/runc", ["--root", s.dataDir + "/runtime/runc", "list", "-q"]).out
                .trimmingCharacters(in: .whitespacesAndNewlines).isEmpty
        }
        try s.eventually("pod directory gone", timeout: 30) { !FileManager.default.fileExists(atPath: s.dataDir + "/pods/\(uid)") }
    }

    /// Like `PodTests.agentServer()`, also returning the arguments to start it again on the same data.
    static func restartableAgentServer() throws -> (OrcaServerProcess, String, [String]) {
        let tag = String(UUID().uuidString.prefix(6)).lowercased()
        let bridge = "orct\(tag)"
        let dir = NSTemporaryDirectory() + "orca-e2e-\(tag)"
        let args = ["--pod-cidr", TestPodCIDR.allocate(), "--bridge-name", bridge, "--run-dir", dir + "/run",
                    "--pod-log-dir", dir + "/logs", "--node-name", "node-\(tag)", "--kubelet-port", String(try LoopbackPort.free())]
        let s = try OrcaServerProcess(extraArguments: args, dataDir: dir)
        try s.eventually("node Ready") {
            try s.k("get", "nodes", "-o", "jsonpath={.items[0].status.conditions[?(@.type=='Ready')].status}") == "True"
        }
        return (s, bridge, args)
    }

    @Test func serverRestartAdoptsRunningContainersAndReconcilesDeadOnes() throws {
        var (s, bridge, args) = try Self.restartableAgentServer()
        defer { PodTests.shutdown(s, bridge: bridge) }
        let gate = try Self.gateDirectory(s, "restart")
        let pods = """
        apiVersion: v1
        kind: Pod
        metadata: {name: steady}
        spec:
          volumes:
          - {name: gate, hostPath: {path: "\(gate)", type: Directory}}
          initContainers:
          - {name: prep, image: docker.io/library/busybox:1.35, command: ["sh", "-c", "echo prep >> /gate/prep-runs"], volumeMounts: [{name: gate, mountPath: /gate}]}
          containers:
          - name: c
            image: docker.io/library/busybox:1.35
            command: ["sh", "-c", "if [ -f /gate/once ]; then exec sleep 3600; fi; touch /gate/once; exit 1"]
            volumeMounts: [{name: gate, mountPath: /gate}]
        ---
        apiVersion: v1
        kind: Pod
        metadata: {name: doomed}
        spec:
          restartPolicy: OnFailure
          volumes:
          - {name: gate, hostPath: {path: "\(gate)", type: Directory}}
          containers:
          - name: c
            image: docker.io/library/busybox:1.35
            command: ["sh", "-c", "if [ -f /gate/died ]; then exec sleep 3600; fi; until [ -f /gate/die ]; do sleep 0.2; done; touch /gate/died; exit 2"]
            volumeMounts: [{name: gate, mountPath: /gate}]
        """
        _ = try s.k("apply", "-f", "-", stdin: pods)
        func field(_ pod: String, _ path: String) throws -> String {
            try s.k("get", "pod", pod, "-o", "jsonpath={.status.\(path)}")
        }
        try s.eventually("steady restarted once and ready", timeout: 60) {
            try field("steady", "containerStatuses[0].restartCount") == "1" && field("steady", "containerStatuses[0].ready") == "true"
        }
        _ = try s.k("wait", "--for=condition=Ready", "pod/doomed", "--timeout=60s")
        let before = try ["containerStatuses[0].containerID", "containerStatuses[0].restartCount", "containerStatuses[0].lastState.terminated.exitCode",
                          "podIP", "startTime", "initContainerStatuses[0].containerID"].map { try field("steady", $0) }
        let doomedID = try field("doomed", "containerStatuses[0].containerID")

        // Stop the server (its agent): the containers keep running; one of them dies meanwhile.
        s.stop(removeData: false)
        FileManager.default.createFile(atPath: gate + "/die", contents: nil)
        try s.eventually("doomed's container exited while the agent was down") { FileManager.default.fileExists(atPath: gate + "/died") }
        s = try OrcaServerProcess(extraArguments: args, dataDir: s.dataDir)
        try s.eventually("node Ready again") {
            try s.k("get", "nodes", "-o", "jsonpath={.items[0].status.conditions[?(@.type=='Ready')].status}") == "True"
        }
        // The dead container is restarted by policy; the running one is adopted as it was.
        try s.eventually("doomed restarted", timeout: 60) {
            try field("doomed", "containerStatuses[0].restartCount") == "1" && field("doomed", "containerStatuses[0].ready") == "true"
        }
        #expect(try field("doomed", "containerStatuses[0].lastState.terminated.exitCode") == "2")
        #expect(try field("doomed", "containerStatuses[0].containerID") != doomedID)
        _ = try s.k("wait", "--for=condition=Ready", "pod/steady", "--timeout=60s")
        let after = try ["containerStatuses[0].containerID", "containerStatuses[0].restartCount", "containerStatuses[0].lastState.terminated.exitCode",
                         "podIP", "startTime", "initContainerStatuses[0].containerID"].map { try field("steady", $0) }
        #expect(after == before)
        #expect(Self.read(gate + "/prep-runs") == "prep\n", "the init container ran again")
        // Still managed: deletion works after the restart.
        _ = try s.k("delete", "pod", "steady", "--grace-period=1", "--wait=true", "--timeout=60s")
    }

    @Test func memoryHogIsOOMKilledAndRestarted() throws {
        let (s, bridge) = try PodTests.agentServer()
        defer { PodTests.shutdown(s, bridge: bridge) }
        let pod = """
        apiVersion: v1
        kind: Pod
        metadata: {name: hog}
        spec:
          containers:
          - name: c
            image: docker.io/library/busybox:1.35
            command: ["sh", "-c", "echo eating; tail /dev/zero"]
            resources: {limits: {memory: 16Mi}}
        """
        _ = try s.k("apply", "-f", "-", stdin: pod)
        func field(_ path: String) throws -> String {
            try s.k("get", "pod", "hog", "-o", "jsonpath={.status.containerStatuses[0].\(path)}")
        }
        try s.eventually("OOMKilled and restarted", timeout: 90) {
            let restarts = Int(try field("restartCount")) ?? 0
            let reason = try field("lastState.terminated.reason")
            return restarts >= 1 && reason == "OOMKilled"
        }
        #expect(try field("lastState.terminated.exitCode") == "137")
        try s.eventually("CrashLoopBackOff or running again") {
            let reason = try field("state.waiting.reason")
            let running = try field("state.running.startedAt")
            return reason == "CrashLoopBackOff" || !running.isEmpty
        }
    }
}
