import AsyncHTTPClient
import Crypto
import Foundation
import NIOCore
import NIOHTTP1
import OrcaCore

extension RegistryClient {
    /// Downloads the blob `descriptor` of `reference` into `store`, unless it is stored already.
    ///
    /// The body is streamed to a file under `store.stagingDirectory` while it is hashed, so no
    /// layer is ever held in memory. Redirects are followed. An interrupted download is tried again
    /// (`maxAttempts` in all), resuming with `Range` when the server honours it. Content that does
    /// not match the descriptor's digest or size is deleted and `digestMismatch` thrown.
    ///
    /// - Parameter progress: called with each change of the bytes held for this blob (negative
    ///   when a download restarts from the beginning).
    /// - Returns: the bytes transferred (0 when the blob was already stored).
    @discardableResult
    public func fetchBlob(_ descriptor: OCIImage.Descriptor, of reference: ImageReference, into store: ImageStore,
                          progress: (@Sendable (Int64) -> Void)? = nil) async throws -> Int64 {
        if store.hasBlob(descriptor.digest) { return 0 }
        let path = store.stagingPath("pull-\(descriptor.digest.hex.prefix(12))")
        guard FileManager.default.createFile(atPath: path, contents: nil), let handle = FileHandle(forWritingAtPath: path) else {
            throw OrcaError(.system, "cannot create \(path)")
        }
        var download = BlobDownload(handle: handle, descriptor: descriptor, progress: progress)
        do {
            var attempt = 1
            while true {
                do {
                    try await withEndpoints(reference) { endpoint in
                        try await download.attempt(client: self, endpoint: endpoint, reference: reference)
                    }
                    break
                } catch let error as OrcaError where error.code == .unavailable && attempt < maxAttempts {
                    try await Task.sleep(for: Self.backoff(attempt))
                    attempt += 1
                }
            }
            try handle.close()
            let digest = ContentDigest(download.hasher.finalize())
            guard digest == descriptor.digest else {
                throw OrcaError(.digestMismatch, "blob \(descriptor.digest) of \(reference) has digest \(digest): the registry sent other content; it was not stored")
            }
            try store.putBlob(movingFileAt: path, expected: descriptor.digest)
            return download.transferred
        } catch {
            try? handle.close()
            try? FileManager.default.removeItem(atPath: path)
            throw error
        }
    }
}

/// One blob's download state across attempts: the file, the running hash, the bytes held.
struct BlobDownload {
    let handle: FileHandle
    let descriptor: OCIImage.Descriptor
    let progress: (@Sendable (Int64) -> Void)?
    var hasher = SHA256()
    /// Bytes in the file (and hashed).
    var written: Int64 = 0
    /// Bytes received over the network, over all attempts.
    var transferred: Int64 = 0

    init(handle: FileHandle, descriptor: OCIImage.Descriptor, progress: (@Sendable (Int64) -> Void)?) {
        self.handle = handle
        self.descriptor = descriptor
        self.progress = progress
    }

    /// One GET of the blob, resuming at `written` when there is something already.
    mutating func attempt(client: RegistryClient, endpoint: RegistryConfiguration.Endpoint, reference: ImageReference) async throws {
        if written == descriptor.size, descriptor.size > 0 { return }
        var headers = HTTPHeaders()
        if written > 0 { headers.add(name: "Range", value: "bytes=\(written)-") }
        let response = try await client.get("/v2/\(reference.path)/blobs/\(descriptor.digest)", endpoint: endpoint,
                                            reference: reference, headers: headers)
        switch response.status {
        case .ok:
            try restart()
        case .partialContent where Self.rangeStart(response.headers.first(name: "Content-Range")) == written:
            break
        case .partialContent, .rangeNotSatisfiable:
            _ = try? await response.body.collect(upTo: 1 << 16)
            try restart()
            throw OrcaError(.unavailable, "blob \(descriptor.digest): \(endpoint) did not resume at byte \(written)")
        default:
            _ = try? await response.body.collect(upTo: 1 << 16)
            if response.status == .notFound {
                throw OrcaError(.notFound, "blob \(descriptor.digest) of \(reference) not found on \(endpoint)")
            }
            throw RegistryClient.statusError(response.status, "blob \(descriptor.digest) of \(reference) from \(endpoint)")
        }
        do {
            for try await chunk in response.body {
                guard written + Int64(chunk.readableBytes) <= descriptor.size else {
                    throw OrcaError(.digestMismatch, "blob \(descriptor.digest) of \(reference) is larger than its \(descriptor.size) bytes: the registry sent other content; it was not stored")
                }
                try chunk.withUnsafeReadableBytes { bytes in
                    try handle.write(contentsOf: bytes)
                    hasher.update(bufferPointer: bytes)
                }
                written += Int64(chunk.readableBytes)
                transferred += Int64(chunk.readableBytes)
                progress?(Int64(chunk.readableBytes))
            }
        } catch let error as OrcaError {
            throw error
        } catch {
            throw OrcaError(.unavailable, "blob \(descriptor.digest) from \(endpoint): download interrupted at byte \(written)", cause: error)
        }
        guard written == descriptor.size else {
            throw OrcaError(.unavailable, "blob \(descriptor.digest) from \(endpoint): download ended at byte \(written) of \(descriptor.size)")
        }
    }

    /// Empties the file and the hash for a download from the start.
    mutating func restart() throws {
        guard written > 0 else { return }
        try handle.truncate(atOffset: 0)
        hasher = SHA256()
        progress?(-written)
        written = 0
    }

    /// The first byte of `Content-Range: bytes <first>-<last>/<total>`.
    static func rangeStart(_ header: String?) -> Int64? {
        guard let header, header.hasPrefix("bytes ") else { return nil }
        return header.dropFirst(6).split(separator: "-").first.flatMap { Int64($0) }
    }
}
