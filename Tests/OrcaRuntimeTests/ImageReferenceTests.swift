import Testing
import OrcaCore
@testable import OrcaRuntime

private let digest = "sha256:" + String(repeating: "ab", count: 32)

@Test(arguments: [
    ("busybox", "docker.io/library/busybox:latest"),
    ("busybox:1.35", "docker.io/library/busybox:1.35"),
    ("library/busybox", "docker.io/library/busybox:latest"),
    ("docker.io/busybox", "docker.io/library/busybox:latest"),
    ("docker.io/library/busybox:latest", "docker.io/library/busybox:latest"),
    ("index.docker.io/library/busybox", "docker.io/library/busybox:latest"),
    ("x/y:t", "docker.io/x/y:t"),
    ("x/y/z", "docker.io/x/y/z:latest"),
    ("quay.io/coreos/etcd", "quay.io/coreos/etcd:latest"),
    ("localhost/foo", "localhost/foo:latest"),
    ("localhost:5000/foo/bar:v1.2_3-rc", "localhost:5000/foo/bar:v1.2_3-rc"),
    ("127.0.0.1:5000/x:t", "127.0.0.1:5000/x:t"),
    ("registry.k8s.io/pause:3.9", "registry.k8s.io/pause:3.9"),
    ("my-registry.example.com/a_b/c__d/e-f/g.h", "my-registry.example.com/a_b/c__d/e-f/g.h:latest"),
    ("busybox@\(digest)", "docker.io/library/busybox@\(digest)"),
    ("busybox:1.35@\(digest)", "docker.io/library/busybox:1.35@\(digest)"),
    ("host:5000/x@\(digest)", "host:5000/x@\(digest)"),
])
func imageNameNormalisation(input: String, expected: String) throws {
    #expect(try ImageReference.normalize(input) == expected)
}

@Test(arguments: [
    "", "Busybox", "busybox:", ":tag", "a//b", "busybox@sha256:abc", "busybox@md5:" + String(repeating: "a", count: 32),
    "-x/y", "x/y-", "x/y:-t", "busybox:" + String(repeating: "t", count: 129), "bad host:5000/x", "x/y__-z",
])
func invalidImageNames(input: String) {
    #expect(throws: OrcaError.self) { try ImageReference(parsing: input) }
}

@Test func referenceParts() throws {
    let r = try ImageReference(parsing: "localhost:5000/foo/bar:v1")
    #expect(r.domain == "localhost:5000")
    #expect(r.path == "foo/bar")
    #expect(r.tag == "v1")
    #expect(r.digest == nil)
    #expect(r.repository == "localhost:5000/foo/bar")
}
