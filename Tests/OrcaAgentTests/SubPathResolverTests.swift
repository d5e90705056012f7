import Foundation
import Glibc
import OrcaCore
import OrcaRuntime
import Testing
@testable import OrcaAgent

/// subPath rules that need no mounts: validation, `subPathExpr` expansion and the read-only
/// volume kinds.
struct SubPathRulesTests {
    @Test(arguments: ["..", "../x", "a/../../b", "a/..", "/etc", "/\u{301}etc", "../\u{301}", "x\u{0}y"])
    func backstepsAbsolutePathsAndNULAreRefused(_ subPath: String) throws {
        let error = #expect(throws: EnvironmentResolver.ConfigError.self) { try SubPathResolver.components(of: subPath) }
        #expect(error?.description.contains("subPath") == true, "\(String(describing: error))")
        // Refused before anything on disk is looked at.
        let resolver = SubPathResolver(podDirectory: "/nonexistent-\(UUID().uuidString)")
        #expect(throws: EnvironmentResolver.ConfigError.self) {
            try resolver.prepare(volumePath: "/nonexistent", subPath: subPath, volumeName: "v", containerName: "c", index: 0)
        }
    }

    @Test func dotDotMessageIsTheKubelets() throws {
        let error = #expect(throws: EnvironmentResolver.ConfigError.self) { try SubPathResolver.components(of: "a/../b") }
        #expect(error?.description.contains("must not contain '..'") == true)
    }

    @Test func componentsDropEmptyAndDotElements() throws {
        #expect(try SubPathResolver.components(of: "a//b/./c/") == ["a", "b", "c"])
        #expect(try SubPathResolver.components(of: "..a/b..") == ["..a", "b.."])
        #expect(try SubPathResolver.components(of: ".") == [])
    }

    @Test func subPathExprExpandsTheContainersEnvironment() throws {
        let expr = try JSONValue.parse(#"{"name":"v","mountPath":"/x","subPathExpr":"logs/$(POD_NAME)/$$(LITERAL)"}"#)
        #expect(try SubPathResolver.subPath(of: expr, env: ["POD_NAME": "web-0"]) == "logs/web-0/$(LITERAL)")
        #expect(throws: EnvironmentResolver.ConfigError.self) { try SubPathResolver.subPath(of: expr, env: [:]) }
        #expect(throws: EnvironmentResolver.ConfigError.self) { try SubPathResolver.subPath(of: expr, env: ["POD_NAME": ""]) }
        // An expansion that climbs out is refused like a literal subPath.
        let climbing = try #require(try SubPathResolver.subPath(of: expr, env: ["POD_NAME": "../.."]))
        #expect(throws: EnvironmentResolver.ConfigError.self) { try SubPathResolver.components(of: climbing) }
        let plain = try JSONValue.parse(#"{"name":"v","mountPath":"/x","subPath":"a/b"}"#)
        #expect(try SubPathResolver.subPath(of: plain, env: [:]) == "a/b")
        let none = try JSONValue.parse(#"{"name":"v","mountPath":"/x"}"#)
        #expect(try SubPathResolver.subPath(of: none, env: [:]) == nil)
    }

    @Test func contentVolumesAreAlwaysReadOnly() throws {
        let pod = try JSONValue.parse("""
        {"spec": {"volumes": [
          {"name": "cm", "configMap": {"name": "x"}}, {"name": "sec", "secret": {"secretName": "s"}},
          {"name": "dw", "downwardAPI": {"items": []}}, {"name": "pj", "projected": {"sources": []}},
          {"name": "scratch", "emptyDir": {}}, {"name": "ro", "emptyDir": {}}]}}
        """)
        let container = try JSONValue.parse("""
        {"name": "c", "volumeMounts": [
          {"name": "cm", "mountPath": "/cm", "readOnly": false}, {"name": "sec", "mountPath": "/sec"},
          {"name": "dw", "mountPath": "/dw"}, {"name": "pj", "mountPath": "/pj"},
          {"name": "scratch", "mountPath": "/scratch"}, {"name": "ro", "mountPath": "/ro", "readOnly": true}]}
        """)
        let paths = ["cm": "/p/cm", "sec": "/p/sec", "dw": "/p/dw", "pj": "/p/pj", "scratch": "/p/scratch", "ro": "/p/ro"]
        let mounts = try ContainerSpecBuilder.volumeMounts(pod: pod, container: container, volumePaths: paths, env: [:],
                                                           subPaths: SubPathResolver(podDirectory: "/nonexistent"))
        let readOnly = Dictionary(uniqueKeysWithValues: mounts.map { ($0.destination, $0.options.contains("ro")) })
        #expect(readOnly == ["/cm": true, "/sec": true, "/dw": true, "/pj": true, "/scratch": false, "/ro": true])
        #expect(mounts.map(\.source) == ["/p/cm", "/p/sec", "/p/dw", "/p/pj", "/p/scratch", "/p/ro"])
    }
}

/// Safe subPath bind mounts against real mounts (root): a planted symlink is refused, a good
/// subPath is bind-mounted on the pod's private mount point, and tear-down leaves no mount.
@Suite(.serialized, .enabled(if: getuid() == 0, "bind mounts need root"))
struct SubPathMountTests {
    /// A pod directory with an emptyDir-like volume (mode 0777); `remove()` detaches every
    /// mount below it and deletes it.
    struct TemporaryPod {
        let base: String
        var podDir: String { "\(base)/pod" }
        var volume: String { "\(base)/pod/volumes/scratch" }

        init() throws {
            let made = "\(FileManager.default.temporaryDirectory.path)/orca-subpath-\(UUID().uuidString)"
            try FileManager.default.createDirectory(atPath: "\(made)/pod/volumes/scratch", withIntermediateDirectories: true)
            base = SubPathResolver.realPath(made) ?? made
            chmod(volume, 0o777)
        }

        func remove() {
            for mountPoint in MountTable.mountPoints(under: base) { _ = umount2(mountPoint, Int32(MNT_DETACH)) }
            if MountTable.mountPoints(under: base).isEmpty { try? FileManager.default.removeItem(atPath: base) }
        }
    }

    func write(_ text: String, to path: String) throws {
        try Data(text.utf8).write(to: URL(fileURLWithPath: path))
    }

    /// Whether `/proc/self/mountinfo` lists a mount point at or below `path`.
    func mounted(under path: String) -> Bool { !MountTable.mountPoints(under: path).isEmpty }

    @Test func aPlantedSymlinkIsRefused() throws {
        let temp = try TemporaryPod()
        defer { temp.remove() }
        let podDir = temp.podDir, volume = temp.volume
        let outside = "/nonexistent-\(UUID().uuidString)"
        symlink("/", "\(volume)/evil")
        symlink("/etc", "\(volume)/etc-link")
        symlink(outside, "\(volume)/dangling")
        let resolver = SubPathResolver(podDirectory: podDir)
        for subPath in ["evil", "evil/etc", "etc-link", "dangling", "dangling/inside"] {
            let error = #expect(throws: EnvironmentResolver.ConfigError.self, "\(subPath)") {
                try resolver.prepare(volumePath: volume, subPath: subPath, volumeName: "scratch", containerName: "escape", index: 0)
            }
            #expect(error?.description.contains("subPath") == true, "\(String(describing: error))")
        }
        #expect(!mounted(under: podDir))
        #expect(AtomicWriter.lstat(outside) == nil, "nothing was created through the dangling link")
    }

    @Test func aNestedSubPathIsBindMountedAndTornDown() throws {
        let temp = try TemporaryPod()
        defer { temp.remove() }
        let podDir = temp.podDir, volume = temp.volume
        try FileManager.default.createDirectory(atPath: "\(volume)/a/b", withIntermediateDirectories: true)
        try write("hello", to: "\(volume)/a/b/file")
        let resolver = SubPathResolver(podDirectory: podDir)
        let target = try resolver.prepare(volumePath: volume, subPath: "a/b", volumeName: "scratch", containerName: "app", index: 2)
        #expect(target == "\(podDir)/volume-subpaths/scratch/app/2")
        #expect(MountTable.mountPoints().contains(target))
        #expect((try? String(contentsOfFile: "\(target)/file", encoding: .utf8)) == "hello")
        // Writes through the mount land in the volume.
        try write("new", to: "\(target)/from-container")
        #expect((try? String(contentsOfFile: "\(volume)/a/b/from-container", encoding: .utf8)) == "new")
        // A restart of the container replaces its mount instead of stacking another.
        #expect(try resolver.prepare(volumePath: volume, subPath: "a/b", volumeName: "scratch", containerName: "app", index: 2) == target)
        #expect(MountTable.mountPoints().filter { $0 == target }.count == 1)

        #expect(SubPathResolver.cleanUp(podDirectory: podDir))
        #expect(!mounted(under: podDir))
        #expect(AtomicWriter.lstat("\(podDir)/volume-subpaths") == nil)
        #expect((try? String(contentsOfFile: "\(volume)/a/b/file", encoding: .utf8)) == "hello", "the volume's data stays")
    }

    @Test func missingDirectoriesAreCreatedInsideTheVolumeWithItsMode() throws {
        let temp = try TemporaryPod()
        defer { temp.remove() }
        let podDir = temp.podDir, volume = temp.volume
        let resolver = SubPathResolver(podDirectory: podDir)
        let target = try resolver.prepare(volumePath: volume, subPath: "x/y", volumeName: "scratch", containerName: "app", index: 0)
        let created = try #require(AtomicWriter.lstat("\(volume)/x/y"))
        #expect(created.st_mode & S_IFMT == S_IFDIR)
        #expect(created.st_mode & 0o777 == 0o777, "the emptyDir's mode, not the umask's")
        try write("seen", to: "\(volume)/x/y/probe")
        #expect((try? String(contentsOfFile: "\(target)/probe", encoding: .utf8)) == "seen")
        #expect(SubPathResolver.cleanUp(podDirectory: podDir))
        #expect(!mounted(under: podDir))
    }

    /// configMap-style: `key -> ..data/key` stays inside the volume, so it is followed; the
    /// mount point is a file.
    @Test func aSymlinkThatStaysInsideTheVolumeIsFollowed() throws {
        let temp = try TemporaryPod()
        defer { temp.remove() }
        let podDir = temp.podDir, volume = temp.volume
        let blob: [UInt8] = [0x00, 0xFF, 0x0A]
        try AtomicWriter(targetDirectory: volume).write(["key": .init(data: blob, mode: 0o644)])
        let resolver = SubPathResolver(podDirectory: podDir)
        let target = try resolver.prepare(volumePath: volume, subPath: "key", volumeName: "scratch", containerName: "app", index: 1)
        #expect(AtomicWriter.lstat(target).map { $0.st_mode & S_IFMT == S_IFREG } == true)
        #expect(FileManager.default.contents(atPath: target).map { Array($0) } == blob)
        #expect(SubPathResolver.cleanUp(podDirectory: podDir))
        #expect(!mounted(under: podDir))
    }

    @Test func containerMountsUseThePrivateMountPoint() throws {
        let temp = try TemporaryPod()
        defer { temp.remove() }
        let podDir = temp.podDir, volume = temp.volume
        try FileManager.default.createDirectory(atPath: "\(volume)/logs/web-0", withIntermediateDirectories: true)
        let pod = try JSONValue.parse(#"{"spec": {"volumes": [{"name": "scratch", "emptyDir": {}}]}}"#)
        let container = try JSONValue.parse("""
        {"name": "app", "volumeMounts": [{"name": "scratch", "mountPath": "/all"},
          {"name": "scratch", "mountPath": "/logs", "subPathExpr": "logs/$(POD_NAME)"}]}
        """)
        let mounts = try ContainerSpecBuilder.volumeMounts(pod: pod, container: container, volumePaths: ["scratch": volume],
                                                           env: ["POD_NAME": "web-0"], subPaths: SubPathResolver(podDirectory: podDir))
        #expect(mounts.map(\.source) == [volume, "\(podDir)/volume-subpaths/scratch/app/1"])
        #expect(mounts.allSatisfy { !$0.options.contains("ro") })
        #expect(SubPathResolver.cleanUp(podDirectory: podDir))
        #expect(!mounted(under: podDir))
    }
}
