import Foundation
import Glibc
import OrcaCore

extension RuncContainerRuntime {
    /// conmon's attach socket (`SOCK_SEQPACKET`): each packet it sends is one byte naming the
    /// stream (2 stdout, 3 stderr) and the data; what a client sends goes to the container's
    /// stdin when conmon holds one open. The socket closes when the container exits. A container
    /// with a terminal is resized through conmon's `ctl` FIFO in its bundle (`1 <rows> <cols>`).
    public func attach(_ id: String, io: ProcessStreams) async throws {
        guard case .running = try await state(id) else {
            throw OrcaError(.badRequest, "container \(id) is not running")
        }
        let fd = try UnixSocket.connect(path: "\(socketsDirectory)/\(id)/attach", type: Int32(SOCK_SEQPACKET.rawValue))
        let readFD = dup(fd)
        let reader: FileDescriptorReader
        do { reader = try FileDescriptorReader(fd: readFD, chunkSize: 8192 + 1) } catch {
            close(readFD)
            close(fd)
            throw error
        }
        let writer = FileDescriptorWriter(fd: fd)
        try await withThrowingTaskGroup(of: Void.self) { group in
            if let stdin = io.stdin {
                group.addTask {
                    for await chunk in stdin {
                        do { try await writer.write(chunk) } catch { break }
                    }
                    await writer.closeWrite()
                }
            }
            if let resize = io.resize {
                let ctl = "\(containerDirectory(id))/ctl"
                group.addTask {
                    for await size in resize { Self.writeControl(ctl, "1 \(size.height) \(size.width)\n") }
                }
            }
            try await withTaskCancellationHandler {
                try await reader.forEach { packet in
                    guard let pipe = packet.first else { return }
                    let data = Array(packet.dropFirst())
                    switch pipe {
                    case 2: try await io.stdout(data)
                    case 3: try await io.stderr(data)
                    default: break
                    }
                }
            } onCancel: {
                reader.stop()
            }
            group.cancelAll()
            await writer.close()
        }
    }
}

extension RuncContainerRuntime {
    /// Writes one line to conmon's control FIFO; a FIFO nobody reads (conmon gone) is skipped.
    static func writeControl(_ path: String, _ line: String) {
        let fd = open(path, O_WRONLY | O_NONBLOCK | O_CLOEXEC)
        guard fd >= 0 else { return }
        defer { close(fd) }
        let bytes = Array(line.utf8)
        _ = bytes.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
    }
}

/// Unix-domain socket helpers.
enum UnixSocket {
    /// A connected socket of `type` to `path` (close-on-exec, blocking).
    static func connect(path: String, type: Int32) throws -> Int32 {
        var addr = sockaddr_un()
        addr.sun_family = sa_family_t(AF_UNIX)
        let bytes = Array(path.utf8)
        let capacity = MemoryLayout.size(ofValue: addr.sun_path)
        guard bytes.count < capacity else { throw OrcaError(.system, "socket path \(path) is too long") }
        withUnsafeMutableBytes(of: &addr.sun_path) { raw in
            raw.copyBytes(from: bytes)
            raw[bytes.count] = 0
        }
        let fd = try Syscall.call("socket", path) { socket(AF_UNIX, type | Int32(SOCK_CLOEXEC.rawValue), 0) }
        let length = socklen_t(MemoryLayout<sa_family_t>.size + bytes.count + 1)
        let r = withUnsafePointer(to: &addr) { p in
            p.withMemoryRebound(to: sockaddr.self, capacity: 1) { sa in Syscall.attempt { Glibc.connect(fd, sa, length) } }
        }
        if r.result != 0 {
            close(fd)
            throw Syscall.error("connect", path, errno: r.errno)
        }
        return fd
    }
}
