import Foundation
import OrcaClient
import OrcaControllers
import Testing

@Suite struct ControllerRevisionHistoryTests {
    let template = PodTemplateSpec(metadata: ObjectMeta(labels: ["app": "web"]),
                                   spec: PodSpec(containers: [Container(image: "busybox", name: "c")]))

    @Test func thePatchReplacesTheTemplateAndRestoresIt() throws {
        let data = try ControllerRevisionHistory.templatePatch(template)
        #expect(data[path: ["spec", "template", "$patch"]] == "replace")
        #expect(data["spec"]?.objectValue?.keys.sorted() == ["template"])
        let revision = ControllerRevision(data: data, revision: 1)
        #expect(ControllerRevisionHistory.template(of: revision) == template)
    }

    @Test func hashesAreStableSafeAndMoveWithTheCollisionCount() throws {
        let data = try ControllerRevisionHistory.templatePatch(template)
        let hash = ControllerRevisionHistory.hash(data, collisionCount: 0)
        #expect(hash == ControllerRevisionHistory.hash(data, collisionCount: 0))
        #expect(hash != ControllerRevisionHistory.hash(data, collisionCount: 1))
        #expect(hash.allSatisfy { "bcdfghjklmnpqrstvwxz2456789".contains($0) })
        var other = template
        other.spec?.containers?[0].image = "busybox:1.35"
        #expect(hash != ControllerRevisionHistory.hash(try ControllerRevisionHistory.templatePatch(other), collisionCount: 0))
        #expect(ControllerRevisionHistory.name(prefix: "web", hash: hash) == "web-\(hash)")
        #expect(ControllerRevisionHistory.name(prefix: String(repeating: "a", count: 300), hash: "x").count == 225)
    }

    @Test func revisionsSortByNumberThenAgeThenName() {
        func revision(_ name: String, _ number: Int64, _ created: String) -> ControllerRevision {
            ControllerRevision(metadata: ObjectMeta(creationTimestamp: created, name: name), revision: number)
        }
        let sorted = ControllerRevisionHistory.sorted([
            revision("c", 2, "2024-01-01T00:00:00Z"), revision("b", 1, "2024-01-02T00:00:00Z"),
            revision("a", 1, "2024-01-02T00:00:00Z"), revision("d", 1, "2024-01-01T00:00:00Z"),
        ])
        #expect(sorted.compactMap(\.metadata?.name) == ["d", "a", "b", "c"])
    }
}
