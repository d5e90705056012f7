import Crypto
import Foundation
import Glibc
import OrcaCore

/// Extracts a tar stream with GNU tar while hashing it, as containerd's applier does.
///
/// The archive file is decompressed by `gzip -dc` or `zstd -dc` (chosen by its magic bytes; a
/// plain tar is read as is), and this process pumps the decompressed stream into `tar`'s standard
/// input, hashing it and counting its bytes on the way. So a layer's diff ID (the digest of its
/// uncompressed stream) is known when extraction ends, from one read of the blob. Every
/// `checkInterval` bytes `diskGuard` is asked whether extraction may go on; when it throws, tar is
/// killed and the error is thrown (the caller removes what was written).
struct TarExtraction {
    /// What one extraction saw.
    struct Result: Sendable {
        /// The SHA-256 digest of the uncompressed tar stream (a layer's diff ID).
        var digest: ContentDigest
        /// The size of the uncompressed tar stream.
        var size: Int64
    }

    /// The compression of an archive, from its first bytes.
    enum Compression: Equatable {
        case none, gzip, zstd

        init(magic: [UInt8]) {
            if magic.starts(with: [0x1f, 0x8b]) {
                self = .gzip
            } else if magic.starts(with: [0x28, 0xb5, 0x2f, 0xfd]) {
                self = .zstd
            } else {
                self = .none
            }
        }
    }

    var tarPath = "/bin/tar"
    var gzipPath = "/bin/gzip"
    var zstdPath = "/usr/bin/zstd"
    /// How many uncompressed bytes pass between two `diskGuard` checks.
    var checkInterval: Int64 = 32 << 20

    /// Extracts `file` into `directory` with tar's `--extract` and `options`; throws when tar,
    /// the decompressor or `diskGuard` fails.
    func extract(file: String, into directory: String, options: [String],
                 diskGuard: @escaping @Sendable () throws -> Void) async throws -> Result {
        let input = try Syscall.call("open", file) { open(file, O_RDONLY | O_CLOEXEC) }
        defer { close(input) }
        var magic = [UInt8](repeating: 0, count: 4)
        let got = magic.withUnsafeMutableBytes { pread(input, $0.baseAddress, 4, 0) }
        let compression = Compression(magic: Array(magic.prefix(max(got, 0))))
        let argv = [tarPath, "--extract", "--file", "-", "--directory", directory] + options
        let errorPath = "\(directory).tar-stderr"
        let errorFD = try Syscall.call("open", errorPath) { open(errorPath, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o600) }
        defer {
            close(errorFD)
            unlink(errorPath)
        }
        let interval = checkInterval
        let decompressor: [String]? = switch compression {
        case .none: nil
        case .gzip: [gzipPath, "-dc"]
        case .zstd: [zstdPath, "-dcq"]
        }
        return try await Self.runBlocking {
            try Self.pump(input: input, decompressor: decompressor, tar: argv, errorFD: errorFD,
                          errorPath: errorPath, checkInterval: interval, diskGuard: diskGuard)
        }
    }

    /// Runs `body` on a thread of its own (it blocks on pipes and `waitpid`).
    private static func runBlocking<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
        try await withCheckedThrowingContinuation { continuation in
            Thread.detachNewThread {
                continuation.resume(with: Swift.Result(catching: body))
            }
        }
    }

    private static func pump(input: Int32, decompressor: [String]?, tar argv: [String], errorFD: Int32,
                             errorPath: String, checkInterval: Int64,
                             diskGuard: @Sendable () throws -> Void) throws -> Result {
        FileDescriptorWriter.ignoreBrokenPipes()
        // The decompressor (if any) reads the file and writes a pipe we read.
        var source = input
        var decompressorPID: pid_t = 0
        if let decompressor {
            let pipe = try Syscall.cloexecPipe()
            do {
                decompressorPID = try Syscall.spawn(argv: decompressor, env: []) { actions in
                    posix_spawn_file_actions_adddup2(&actions, input, 0)
                    posix_spawn_file_actions_adddup2(&actions, pipe.write, 1)
                    posix_spawn_file_actions_adddup2(&actions, errorFD, 2)
                }
            } catch {
                close(pipe.read)
                close(pipe.write)
                throw error
            }
            close(pipe.write)
            source = pipe.read
        }
        defer { if source != input { close(source) } }
        // tar reads a pipe we write.
        let tarPipe = try Syscall.cloexecPipe()
        let tarPID: pid_t
        do {
            tarPID = try Syscall.spawn(argv: argv, env: ["PATH=/usr/bin:/bin", "LC_ALL=C"]) { actions in
                posix_spawn_file_actions_adddup2(&actions, tarPipe.read, 0)
                posix_spawn_file_actions_addopen(&actions, 1, "/dev/null", O_WRONLY, 0)
                posix_spawn_file_actions_adddup2(&actions, errorFD, 2)
            }
        } catch {
            close(tarPipe.read)
            close(tarPipe.write)
            if decompressorPID > 0 { kill(decompressorPID, SIGKILL); _ = wait(decompressorPID) }
            throw error
        }
        close(tarPipe.read)

        var hasher = SHA256()
        var size: Int64 = 0
        var sinceCheck: Int64 = 0
        var failure: (any Error)?
        var tarClosedEarly = false
        var buffer = [UInt8](repeating: 0, count: 1 << 20)
        loop: while true {
            let n = buffer.withUnsafeMutableBytes { buf in Syscall.attempt { read(source, buf.baseAddress, buf.count) } }
            if n.result < 0 {
                failure = Syscall.error("read", "decompressed layer", errno: n.errno)
                break
            }
            if n.result == 0 { break }
            let count = n.result
            buffer.withUnsafeBytes { hasher.update(bufferPointer: UnsafeRawBufferPointer(rebasing: $0[0..<count])) }
            size += Int64(count)
            sinceCheck += Int64(count)
            if !tarClosedEarly {
                var offset = 0
                while offset < count {
                    let w = buffer.withUnsafeBytes { buf in Syscall.attempt { write(tarPipe.write, buf.baseAddress! + offset, count - offset) } }
                    if w.result < 0 {
                        // tar stopped reading (it failed or ignores trailing data): keep hashing.
                        tarClosedEarly = true
                        break
                    }
                    offset += w.result
                }
            }
            if sinceCheck >= checkInterval {
                sinceCheck = 0
                do { try diskGuard() } catch {
                    failure = error
                    break loop
                }
            }
        }
        close(tarPipe.write)
        if failure != nil {
            kill(tarPID, SIGKILL)
            if decompressorPID > 0 { kill(decompressorPID, SIGKILL) }
        }
        let tarStatus = wait(tarPID)
        let decompressorStatus = decompressorPID > 0 ? wait(decompressorPID) : 0
        if let failure { throw failure }
        if tarStatus != 0 || decompressorStatus != 0 {
            let text = (try? String(contentsOfFile: errorPath, encoding: .utf8)) ?? ""
            let stage = decompressorStatus != 0 ? "decompressing" : "tar"
            throw OrcaError(.invalid, "\(stage) failed (exit \(decompressorStatus != 0 ? decompressorStatus : tarStatus)): "
                + text.trimmingCharacters(in: .whitespacesAndNewlines).prefix(2048))
        }
        return Result(digest: ContentDigest(hasher.finalize()), size: size)
    }

    /// Waits for child `pid`: its exit code, or 128 + the signal that ended it.
    private static func wait(_ pid: pid_t) -> Int32 {
        var status: Int32 = 0
        let r = Syscall.attempt { waitpid(pid, &status, 0) }
        guard r.result == pid else { return 255 }
        let signal = status & 0x7f
        return signal == 0 ? (status >> 8) & 0xff : 128 + signal
    }
}
