import Foundation
import Glibc
import OrcaCore

extension ImageStore {
    /// Records that `image` was used at `date`, for least-recently-used garbage collection.
    ///
    /// The time is kept as the modification time of the image's manifest blob (content-addressed
    /// and never rewritten), so it needs no index of its own and is shared by every name of the
    /// image. The node agent marks an image each time it makes a container's image ready.
    public func markUsed(_ image: Image, at date: Date) throws {
        let path = blobPath(image.manifestDigest)
        let seconds = date.timeIntervalSince1970.rounded(.down)
        let time = timespec(tv_sec: Int(seconds), tv_nsec: Int((date.timeIntervalSince1970 - seconds) * 1e9))
        let times = [time, time]  // access and modification time
        try Syscall.call("utimensat", path) { utimensat(AT_FDCWD, path, times, 0) }
    }

    /// When `image` was last used (`markUsed`), or else when its manifest was stored; nil when
    /// the manifest blob is gone.
    public func lastUsed(_ image: Image) -> Date? {
        guard let st = Syscall.lstat(blobPath(image.manifestDigest)) else { return nil }
        return Date(timeIntervalSince1970: TimeInterval(st.st_mtim.tv_sec) + TimeInterval(st.st_mtim.tv_nsec) / 1e9)
    }
}
