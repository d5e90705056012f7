import OrcaClient
import OrcaControllers

extension Scheduler {
    /// Every node with its non-terminal pods (by the node-name index) and the pods assumed on
    /// it, in name order, plus the namespaces' labels: what one cycle sees.
    func snapshot() async -> Snapshot {
        let nodeList = await nodes.list().sorted { ($0.metadata?.name ?? "") < ($1.metadata?.name ?? "") }
        let assumedByNode = assumed.byNode()
        var infos: [NodeInfo] = []
        infos.reserveCapacity(nodeList.count)
        for node in nodeList {
            let name = node.metadata?.name ?? ""
            var info = cache.nodeInfo(node)
            let bound = cache.podInfos(await pods.byIndex(Indexers.nodeName, name).filter { !Scheduler.isTerminal($0) })
            for pod in bound { info.add(pod) }
            if let extra = assumedByNode[name] {
                let present = Set(bound.map(\.key))
                for pod in extra where !present.contains(SharedInformer<Pod>.key(pod)) { info.add(PodInfo(pod)) }
            }
            infos.append(info)
        }
        return Snapshot(nodes: infos, namespaceLabels: await listers.namespaceLabels())
    }

    /// What the cycle needs to know about `pod` from other caches: VolumeBinding's PreFilter
    /// verdict and bound volumes, and the selector for default spreading.
    func inputs(for pod: Pod) async -> SchedulingCycle.Inputs {
        var inputs = SchedulingCycle.Inputs()
        inputs.volumeRejection = await volumeBinding.preFilter(pod)
        if inputs.volumeRejection == nil { inputs.boundVolumes = await listers.boundVolumes(of: pod) }
        inputs.defaultSpreadSelector = await listers.defaultSpreadSelector(for: pod)
        return inputs
    }
}
