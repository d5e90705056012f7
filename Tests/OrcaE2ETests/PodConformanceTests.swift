import Foundation
import Testing

/// Issue 15's pod details through the real agent, as the conformance tests check them: the
/// downward API's resource fields, `envFrom`, `subPathExpr` (and its failures), sysctls and
/// `/etc/hosts` of host-network pods.
@Suite(.serialized) struct PodConformanceTests {
    static let image = "docker.io/library/busybox:1.35"

    @Test func downwardAPIResourcesAndEnvFrom() throws {
        let (s, bridge) = try PodTests.agentServer()
        defer { PodTests.shutdown(s, bridge: bridge) }
        _ = try s.k("apply", "-f", "-", stdin: """
            apiVersion: v1
            kind: ConfigMap
            metadata: {name: cfg}
            data: {COLOR: blue, SIZE: "3"}
            ---
            apiVersion: v1
            kind: Secret
            metadata: {name: sec}
            stringData: {TOKEN: s3cret}
            ---
            apiVersion: v1
            kind: Pod
            metadata: {name: dapi}
            spec:
              restartPolicy: Never
              volumes:
              - name: info
                downwardAPI:
                  items:
                  - {path: cpu_limit, resourceFieldRef: {containerName: c, resource: limits.cpu, divisor: 1m}}
                  - {path: mem_request, resourceFieldRef: {containerName: c, resource: requests.memory, divisor: 1Mi}}
              - name: proj
                projected:
                  sources:
                  - downwardAPI: {items: [{path: mem_limit, resourceFieldRef: {containerName: c, resource: limits.memory}}]}
              containers:
              - name: c
                image: \(Self.image)
                command: ["sh", "-c", "env | sort; echo file_cpu=$(cat /info/cpu_limit); echo file_mem=$(cat /info/mem_request); echo proj_mem=$(cat /proj/mem_limit); echo done"]
                resources: {requests: {cpu: 250m, memory: 32Mi}, limits: {cpu: 500m, memory: 64Mi}}
                env:
                - {name: CPU_LIMIT, valueFrom: {resourceFieldRef: {resource: limits.cpu, divisor: 1m}}}
                - {name: CPU_REQUEST, valueFrom: {resourceFieldRef: {resource: requests.cpu}}}
                - {name: MEMORY_LIMIT, valueFrom: {resourceFieldRef: {resource: limits.memory}}}
                - {name: MEMORY_REQUEST, valueFrom: {resourceFieldRef: {resource: requests.memory, divisor: 1Mi}}}
                envFrom:
                - configMapRef: {name: cfg}
                - {prefix: P_, configMapRef: {name: cfg}}
                - secretRef: {name: sec}
                - {prefix: OPT_, configMapRef: {name: absent, optional: true}}
                volumeMounts:
                - {name: info, mountPath: /info}
                - {name: proj, mountPath: /proj}
              - name: nolimit
                image: \(Self.image)
                command: ["sh", "-c", "echo NODE_CPU=$NODE_CPU; echo NODE_MEM=$NODE_MEM"]
                env:
                - {name: NODE_CPU, valueFrom: {resourceFieldRef: {resource: limits.cpu}}}
                - {name: NODE_MEM, valueFrom: {resourceFieldRef: {resource: limits.memory}}}
            """)
        try s.eventually("the pod completes", timeout: 90) { try s.k("get", "pod", "dapi", "-o", "jsonpath={.status.phase}") == "Succeeded" }
        let lines = Set(try s.k("logs", "dapi", "-c", "c").split(separator: "\n").map(String.init))
        for expected in ["CPU_LIMIT=500", "CPU_REQUEST=1", "MEMORY_LIMIT=67108864", "MEMORY_REQUEST=32",
                         "file_cpu=500", "file_mem=32", "proj_mem=67108864",
                         "COLOR=blue", "SIZE=3", "P_COLOR=blue", "P_SIZE=3", "TOKEN=s3cret"] {
            #expect(lines.contains(expected), "missing \(expected) in \(lines.sorted())")
        }
        #expect(!lines.contains { $0.hasPrefix("OPT_") })
        // Without limits, the node's allocatable is the limit.
        let node = try s.k("logs", "dapi", "-c", "nolimit")
        let cpu = node.split(separator: "\n").first { $0.hasPrefix("NODE_CPU=") }.flatMap { Int($0.dropFirst(9)) } ?? 0
        let mem = node.split(separator: "\n").first { $0.hasPrefix("NODE_MEM=") }.flatMap { Int($0.dropFirst(9)) } ?? 0
        #expect(cpu >= 1 && mem > 64 << 20, "\(node)")
    }

    @Test func subPathExprWritesAndBadExpansionsFail() throws {
        let (s, bridge) = try PodTests.agentServer()
        defer { PodTests.shutdown(s, bridge: bridge) }
        func pod(_ name: String, annotations: String, env: String, command: String = "sleep 3600") -> String {
            """
            apiVersion: v1
            kind: Pod
            metadata: {name: \(name), annotations: {\(annotations)}}
            spec:
              terminationGracePeriodSeconds: 1
              volumes: [{name: workdir, emptyDir: {}}]
              containers:
              - name: c
                image: \(Self.image)
                command: ["sh", "-c", "\(command)"]
                env: \(env)
                volumeMounts:
                - {name: workdir, mountPath: /subpath_mount, subPathExpr: "$(ANNOTATION)/$(POD_NAME)"}
                - {name: workdir, mountPath: /volume_mount}
            """
        }
        let fromAnnotation = #"{name: ANNOTATION, valueFrom: {fieldRef: {fieldPath: "metadata.annotations['mysubpath']"}}}"#
        _ = try s.k("apply", "-f", "-", stdin: pod("sp-ok", annotations: "mysubpath: mypath",
                                                   env: "[{name: POD_NAME, valueFrom: {fieldRef: {fieldPath: metadata.name}}}, \(fromAnnotation)]",
                                                   command: "touch /subpath_mount/test.log && test -f /volume_mount/mypath/sp-ok/test.log && echo written; sleep 3600"))
        for (name, value) in [("sp-dotdot", ".."), ("sp-absolute", "/tmp")] {
            _ = try s.k("apply", "-f", "-", stdin: pod(name, annotations: "mysubpath: x", env: "[{name: ANNOTATION, value: \"\(value)\"}, {name: POD_NAME, value: p}]"))
        }
        _ = try s.k("apply", "-f", "-", stdin: pod("sp-fix", annotations: "notmysubpath: mypath", env: "[{name: POD_NAME, value: foo}, \(fromAnnotation)]"))
        try s.eventually("the subPathExpr mount is written", timeout: 90) { try s.k("logs", "sp-ok").contains("written") }
        for name in ["sp-dotdot", "sp-absolute", "sp-fix"] {
            try s.eventually("\(name) waits with CreateContainerConfigError", timeout: 60) {
                try s.k("get", "pod", name, "-o", "jsonpath={.status.containerStatuses[0].state.waiting.reason}") == "CreateContainerConfigError"
            }
            #expect(try s.k("get", "pod", name, "-o", "jsonpath={.status.phase}") == "Pending")
        }
        // The kubelet retries: once the annotation the expansion needs is there, the pod starts.
        _ = try s.k("annotate", "pod", "sp-fix", "mysubpath=mypath")
        try s.eventually("sp-fix runs after the annotation fix", timeout: 60) {
            try s.k("get", "pod", "sp-fix", "-o", "jsonpath={.status.phase}") == "Running"
        }
        #expect(try s.k("get", "pod", "sp-dotdot", "-o", "jsonpath={.status.phase}") == "Pending")
    }

    @Test func sysctlsAndHostsFiles() throws {
        let (s, bridge) = try PodTests.agentServer(["--allowed-unsafe-sysctls", "kernel.msgmax"])
        defer { PodTests.shutdown(s, bridge: bridge) }
        let hostsFile = s.dataDir + "/custom-hosts"
        try "192.0.2.7\tcustom-entry\n".write(toFile: hostsFile, atomically: true, encoding: .utf8)
        _ = try s.k("apply", "-f", "-", stdin: """
            apiVersion: v1
            kind: Pod
            metadata: {name: sysctl-ok}
            spec:
              restartPolicy: Never
              securityContext:
                sysctls:
                - {name: kernel.shm_rmid_forced, value: "1"}
                - {name: net.ipv4.ip_local_port_range, value: "20000 30000"}
                - {name: kernel.msgmax, value: "12345"}
              containers:
              - name: c
                image: \(Self.image)
                command: ["sh", "-c", "echo shm=$(cat /proc/sys/kernel/shm_rmid_forced) ports=$(cat /proc/sys/net/ipv4/ip_local_port_range | tr '\\\\t' ' ') msgmax=$(cat /proc/sys/kernel/msgmax)"]
            ---
            apiVersion: v1
            kind: Pod
            metadata: {name: sysctl-unsafe}
            spec:
              securityContext: {sysctls: [{name: net.core.somaxconn, value: "1024"}]}
              containers: [{name: c, image: \(Self.image), command: ["sleep", "3600"]}]
            ---
            apiVersion: v1
            kind: Pod
            metadata: {name: hostnet}
            spec:
              hostNetwork: true
              restartPolicy: Never
              hostAliases: [{ip: 192.0.2.9, hostnames: [alias-one]}]
              containers: [{name: c, image: \(Self.image), command: ["cat", "/etc/hosts"]}]
            ---
            apiVersion: v1
            kind: Pod
            metadata: {name: managed}
            spec:
              restartPolicy: Never
              hostAliases: [{ip: 192.0.2.9, hostnames: [alias-one, alias-two]}]
              volumes: [{name: own, hostPath: {path: "\(hostsFile)", type: File}}]
              containers:
              - {name: managed, image: \(Self.image), command: ["cat", "/etc/hosts"]}
              - name: own
                image: \(Self.image)
                command: ["cat", "/etc/hosts"]
                volumeMounts: [{name: own, mountPath: /etc/hosts}]
            """)
        for pod in ["sysctl-ok", "hostnet", "managed"] {
            try s.eventually("\(pod) completes", timeout: 90) { try s.k("get", "pod", pod, "-o", "jsonpath={.status.phase}") == "Succeeded" }
        }
        // Safe and allowed unsafe sysctls are set inside the pod's namespaces, not on the host.
        #expect(try s.k("logs", "sysctl-ok") == "shm=1 ports=20000 30000 msgmax=12345\n")
        #expect(PodLifecycleTests.read("/proc/sys/kernel/msgmax") != "12345\n")
        // An unsafe sysctl the node does not allow: rejected by the node, with an event.
        try s.eventually("the unsafe pod is rejected", timeout: 60) {
            try s.k("get", "pod", "sysctl-unsafe", "-o", "jsonpath={.status.phase}/{.status.reason}") == "Failed/SysctlForbidden"
        }
        #expect(try s.k("get", "pod", "sysctl-unsafe", "-o", "jsonpath={.status.message}")
                == #"Pod was rejected: forbidden sysctl: "net.core.somaxconn" not allowlisted"#)
        try s.eventually("a SysctlForbidden event", timeout: 30) {
            try s.k("get", "events", "--field-selector", "involvedObject.name=sysctl-unsafe", "-o", "jsonpath={.items[*].reason}").contains("SysctlForbidden")
        }
        #expect(try s.k("get", "pod", "sysctl-unsafe", "-o", "jsonpath={.status.containerStatuses[0].state.running}").isEmpty)
        // An invalid name never reaches the node.
        let invalid = try s.kubectl(["run", "bad-sysctl", "--image=\(Self.image)", "--overrides",
                                     #"{"spec": {"securityContext": {"sysctls": [{"name": "kernel..bad", "value": "1"}]}}}"#])
        #expect(invalid.status != 0 && invalid.err.contains("spec.securityContext.sysctls[0].name: Invalid value: \"kernel..bad\""), "\(invalid.err)")
        // A host-network pod: the node's hosts file (under the kubelet's header) plus its aliases, the node's IP.
        let hostHosts = PodLifecycleTests.read("/etc/hosts")
        let hostnet = try s.k("logs", "hostnet")
        #expect(hostnet.hasPrefix("# Kubernetes-managed hosts file (host network).\n"))
        #expect(hostnet.contains(hostHosts) && hostnet.hasSuffix("# Entries added by HostAliases.\n192.0.2.9\talias-one\n"), "\(hostnet)")
        #expect(try s.k("get", "pod", "hostnet", "-o", "jsonpath={.status.podIP}") == (try s.k("get", "pod", "hostnet", "-o", "jsonpath={.status.hostIP}")))
        // A managed file gets the aliases; a container that mounts its own /etc/hosts keeps it.
        let managed = try s.k("logs", "managed", "-c", "managed")
        #expect(managed.hasPrefix("# Kubernetes-managed hosts file.\n") && managed.contains("\tmanaged\n"))
        #expect(managed.hasSuffix("# Entries added by HostAliases.\n192.0.2.9\talias-one\talias-two\n"), "\(managed)")
        #expect(try s.k("logs", "managed", "-c", "own") == "192.0.2.7\tcustom-entry\n")
    }
}
