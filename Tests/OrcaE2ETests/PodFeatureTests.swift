import Foundation
import Testing

/// More of issue 4 through the real agent: pod-to-pod traffic, volume kinds, security
/// context, limits, termination messages, log options and warnings for unimplemented fields.
@Suite(.serialized) struct PodFeatureTests {
    @Test func podsReachEachOtherAndVolumeKindsWork() throws {
        let (s, bridge) = try PodTests.agentServer()
        defer { PodTests.shutdown(s, bridge: bridge) }
        let hostDir = s.dataDir + "/hostpath-src"
        try FileManager.default.createDirectory(atPath: hostDir, withIntermediateDirectories: true)
        try "from-host\n".write(toFile: hostDir + "/file", atomically: true, encoding: .utf8)
        _ = try s.k("run", "web", "--image=docker.io/library/busybox:1.35", "--", "sh", "-c", "echo pod-web > /tmp/index.html; exec httpd -f -p 80 -h /tmp")
        _ = try s.k("wait", "--for=condition=Ready", "pod/web", "--timeout=60s")
        let webIP = try s.k("get", "pod", "web", "-o", "jsonpath={.status.podIP}")
        let pod = """
        apiVersion: v1
        kind: Pod
        metadata: {name: vols, annotations: {team: blue}}
        spec:
          volumes:
          - {name: mem, emptyDir: {medium: Memory, sizeLimit: 8Mi}}
          - {name: host, hostPath: {path: "\(hostDir)", type: Directory}}
          - name: proj
            projected:
              sources:
              - downwardAPI: {items: [{path: team, fieldRef: {fieldPath: "metadata.annotations['team']"}}]}
          containers:
          - name: fetch
            image: docker.io/library/busybox:1.35
            command: ["sh", "-c", "for i in $(seq 1 50); do wget -q -O - http://\(webIP)/ && break; sleep 0.2; done; echo fetched; exec sleep 3600"]
          - name: c
            image: docker.io/library/busybox:1.35
            securityContext: {runAsUser: 1000, runAsGroup: 3000}
            command: ["sh", "-c", "echo id=$(id -u):$(id -g); grep -c tmpfs /proc/mounts; df /mem | tail -1; cat /host/file; cat /sub/x 2>/dev/null || echo no-sub; echo team=$(cat /proj/team); echo done; exec sleep 3600"]
            resources: {limits: {memory: 64Mi, cpu: 500m}}
            volumeMounts:
            - {name: mem, mountPath: /mem}
            - {name: mem, mountPath: /sub, subPath: nested}
            - {name: host, mountPath: /host, readOnly: true}
            - {name: proj, mountPath: /proj}
        """
        _ = try s.k("apply", "-f", "-", stdin: pod)
        try s.eventually("vols output") { try s.k("logs", "vols", "-c", "c").contains("done") && s.k("logs", "vols", "-c", "fetch").contains("fetched") }
        let fetched = try s.k("logs", "vols", "-c", "fetch")
        #expect(fetched.contains("pod-web"), "pod-to-pod HTTP failed: \(fetched)")
        let logs = try s.k("logs", "vols", "-c", "c")
        #expect(logs.contains("id=1000:3000"))
        #expect(logs.contains("from-host"))
        #expect(logs.contains("team=blue"))
        #expect(try s.k("get", "pod", "vols", "-o", "jsonpath={.status.qosClass}") == "Burstable")
        let tail = try s.k("logs", "vols", "-c", "c", "--tail=1")
        #expect(tail == "done\n")
        let stamped = try s.k("logs", "vols", "-c", "c", "--timestamps", "--tail=1")
        #expect(stamped.hasSuffix(" done\n") && stamped.hasPrefix("20"))
    }

    @Test func terminationMessagesAndOOM() throws {
        let (s, bridge) = try PodTests.agentServer()
        defer { PodTests.shutdown(s, bridge: bridge) }
        let pods = """
        apiVersion: v1
        kind: Pod
        metadata: {name: msg}
        spec:
          restartPolicy: Never
          containers:
          - {name: c, image: docker.io/library/busybox:1.35, command: ["sh", "-c", "echo custom-reason > /dev/termination-log; exit 2"]}
        ---
        apiVersion: v1
        kind: Pod
        metadata: {name: fallback}
        spec:
          restartPolicy: Never
          containers:
          - {name: c, image: docker.io/library/busybox:1.35, terminationMessagePolicy: FallbackToLogsOnError, command: ["sh", "-c", "echo last-words; exit 1"]}
        ---
        apiVersion: v1
        kind: Pod
        metadata: {name: hog}
        spec:
          restartPolicy: Never
          containers:
          - name: c
            image: docker.io/library/busybox:1.35
            command: ["sh", "-c", "tail /dev/zero"]
            resources: {limits: {memory: 16Mi}}
        """
        _ = try s.k("apply", "-f", "-", stdin: pods)
        for p in ["msg", "fallback", "hog"] {
            _ = try s.k("wait", "--for=jsonpath={.status.phase}=Failed", "pod/\(p)", "--timeout=90s")
        }
        func terminated(_ pod: String, _ field: String) throws -> String {
            try s.k("get", "pod", pod, "-o", "jsonpath={.status.containerStatuses[0].state.terminated.\(field)}")
        }
        #expect(try terminated("msg", "message") == "custom-reason\n")
        #expect(try terminated("fallback", "message").contains("last-words"))
        #expect(try terminated("hog", "reason") == "OOMKilled")
    }

    @Test func unimplementedFieldsAreNamed() throws {
        let (s, bridge) = try PodTests.agentServer()
        defer { PodTests.shutdown(s, bridge: bridge) }
        let pod = """
        apiVersion: v1
        kind: Pod
        metadata: {name: probed}
        spec:
          containers:
          - name: c
            image: docker.io/library/busybox:1.35
            command: ["sleep", "3600"]
            resizePolicy: [{resourceName: cpu, restartPolicy: NotRequired}]
        """
        let r = try s.kubectl(["apply", "-f", "-"], stdin: pod)
        #expect(r.status == 0)
        #expect(r.err.contains("Warning:") && r.err.contains("resizePolicy"))
        try s.eventually("UnsupportedField event") {
            try s.k("get", "events", "--field-selector", "involvedObject.name=probed,reason=UnsupportedField").contains("resizePolicy")
        }
    }
}
