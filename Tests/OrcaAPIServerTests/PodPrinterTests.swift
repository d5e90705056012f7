import Foundation
import OrcaAPI
import Testing
@testable import OrcaAPIServer

/// The STATUS column of `kubectl get pods` (Kubernetes' `printPod`).
@Suite struct PodPrinterTests {
    static let sidecarSpec = #""initContainers": [{"name": "init"}, {"name": "side", "restartPolicy": "Always"}], "containers": [{"name": "c"}]"#

    /// (case, pod JSON, STATUS)
    static let cases: [(String, String, String)] = [
        ("no status yet", #"{"spec": {"containers": [{"name": "c"}]}}"#, "Pending"),
        ("phase", #"{"status": {"phase": "Running"}}"#, "Running"),
        ("pod reason wins", #"{"status": {"phase": "Failed", "reason": "Evicted"}}"#, "Evicted"),
        ("waiting container", #"{"status": {"phase": "Pending", "containerStatuses": [{"name": "c", "state": {"waiting": {"reason": "ImagePullBackOff"}}}]}}"#, "ImagePullBackOff"),
        ("crash loop", #"{"status": {"phase": "Running", "containerStatuses": [{"name": "c", "state": {"waiting": {"reason": "CrashLoopBackOff"}}}]}}"#, "CrashLoopBackOff"),
        ("terminated with reason", #"{"status": {"phase": "Succeeded", "containerStatuses": [{"name": "c", "state": {"terminated": {"exitCode": 0, "reason": "Completed"}}}]}}"#, "Completed"),
        ("terminated by signal", #"{"status": {"phase": "Failed", "containerStatuses": [{"name": "c", "state": {"terminated": {"exitCode": 137, "signal": 9}}}]}}"#, "Signal:9"),
        ("terminated by exit code", #"{"status": {"phase": "Failed", "containerStatuses": [{"name": "c", "state": {"terminated": {"exitCode": 3}}}]}}"#, "ExitCode:3"),
        ("first container decides", #"{"status": {"phase": "Running", "containerStatuses": [{"name": "a", "state": {"waiting": {"reason": "ErrImagePull"}}}, {"name": "b", "state": {"running": {}}, "ready": true}]}}"#, "ErrImagePull"),
        ("init running", #"{"spec": {"initContainers": [{"name": "i1"}, {"name": "i2"}]}, "status": {"phase": "Pending", "initContainerStatuses": [{"name": "i1", "state": {"terminated": {"exitCode": 0}}}, {"name": "i2", "state": {"running": {}}}]}}"#, "Init:1/2"),
        ("init failed", #"{"spec": {"initContainers": [{"name": "i1"}]}, "status": {"phase": "Pending", "initContainerStatuses": [{"name": "i1", "state": {"terminated": {"exitCode": 1, "reason": "Error"}}}]}}"#, "Init:Error"),
        ("init exit code", #"{"spec": {"initContainers": [{"name": "i1"}]}, "status": {"initContainerStatuses": [{"name": "i1", "state": {"terminated": {"exitCode": 2}}}]}}"#, "Init:ExitCode:2"),
        ("init waiting", #"{"spec": {"initContainers": [{"name": "i1"}]}, "status": {"initContainerStatuses": [{"name": "i1", "state": {"waiting": {"reason": "CrashLoopBackOff"}}}]}}"#, "Init:CrashLoopBackOff"),
        ("init waiting PodInitializing", #"{"spec": {"initContainers": [{"name": "i1"}]}, "status": {"initContainerStatuses": [{"name": "i1", "state": {"waiting": {"reason": "PodInitializing"}}}]}}"#, "Init:0/1"),
        ("started sidecar does not block", "{\"spec\": {\(sidecarSpec)}, \"status\": {\"phase\": \"Running\", \"initContainerStatuses\": [{\"name\": \"init\", \"state\": {\"terminated\": {\"exitCode\": 0}}}, {\"name\": \"side\", \"started\": true, \"state\": {\"running\": {}}}], \"containerStatuses\": [{\"name\": \"c\", \"ready\": true, \"state\": {\"running\": {}}}]}}", "Running"),
        ("completed but a container still runs", #"{"status": {"phase": "Running", "conditions": [{"type": "Ready", "status": "True"}], "containerStatuses": [{"name": "a", "ready": true, "state": {"running": {}}}, {"name": "b", "state": {"terminated": {"exitCode": 0, "reason": "Completed"}}}]}}"#, "Running"),
        ("completed, not ready", #"{"status": {"phase": "Running", "containerStatuses": [{"name": "a", "ready": true, "state": {"running": {}}}, {"name": "b", "state": {"terminated": {"exitCode": 0, "reason": "Completed"}}}]}}"#, "NotReady"),
        ("deleting", #"{"metadata": {"deletionTimestamp": "2024-01-01T00:00:00Z"}, "status": {"phase": "Running"}}"#, "Terminating"),
        ("node lost", #"{"metadata": {"deletionTimestamp": "2024-01-01T00:00:00Z"}, "status": {"phase": "Running", "reason": "NodeLost"}}"#, "Unknown"),
    ]

    @Test(arguments: cases)
    func statusColumn(name: String, pod: String, expected: String) {
        #expect(PodPrinter.status(json(pod)) == expected, "\(name)")
    }
}
