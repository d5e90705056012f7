import OrcaClient

extension Resource {
    /// The scheduler's default cpu request, in millicores, for a container that sets none
    /// (`schedutil.DefaultMilliCPURequest`), used by the resource scores only.
    static let defaultMilliCPURequest: Int64 = 100
    /// The scheduler's default memory request, in bytes (200Mi), for a container that sets none.
    static let defaultMemoryRequest: Int64 = 200 * 1024 * 1024

    /// What `pod` asks of a node (`resourcehelper.PodRequests`): the sum of its containers
    /// and its restartable (sidecar) init containers, raised to what any other init container
    /// needs while it runs next to the sidecars started before it, plus the pod's overhead.
    ///
    /// With `defaultingCPUAndMemory`, a container without a cpu or memory request counts as
    /// asking 100m and 200Mi (the "non-zero" requests the resource scores use).
    public static func requests(of pod: Pod, defaultingCPUAndMemory: Bool = false) -> Resource {
        func requests(_ container: Container) -> Resource {
            let list = container.resources?.requests ?? [:]
            var r = Resource(list)
            if defaultingCPUAndMemory {
                if list["cpu"] == nil { r.milliCPU = defaultMilliCPURequest }
                if list["memory"] == nil { r.memory = defaultMemoryRequest }
            }
            return r
        }
        var total = Resource()
        for container in pod.spec?.containers ?? [] { total.add(requests(container)) }
        var sidecars = Resource()
        var initPeak = Resource()
        for container in pod.spec?.initContainers ?? [] {
            var whileRunning = requests(container)
            if container.restartPolicy == "Always" {
                total.add(whileRunning)
                sidecars.add(whileRunning)
                whileRunning = sidecars
            } else {
                whileRunning.add(sidecars)
            }
            initPeak.raise(to: whileRunning)
        }
        total.raise(to: initPeak)
        if let overhead = pod.spec?.overhead { total.add(Resource(overhead)) }
        return total
    }
}
