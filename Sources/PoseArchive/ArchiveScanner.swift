// Finding the videos of an archive and each one's detection file. Deterministic: entries are
// sorted by name, whatever order the file system lists them in. A bad entry (a folder that
// cannot be listed, a link leaving the archive, a loop, two videos of one name) is set aside
// with its reason; only an archive that cannot be listed at all stops the scan.
import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// One video of the archive.
public struct VideoEntry: Sendable, Equatable {
    public enum Kind: String, Sendable, Codable { case videoFile, frameFolder }
    /// The output name: file name without extension, or the frame folder's name.
    public var name: String
    public var path: String
    public var kind: Kind
    /// The detection file found for it, or nil (then `detectionCandidates` says where we looked).
    public var detectionFile: DetectionFile?
    public var detectionCandidates: [String]

    public init(name: String, path: String, kind: Kind, detectionFile: DetectionFile?, detectionCandidates: [String] = []) {
        self.name = name; self.path = path; self.kind = kind
        self.detectionFile = detectionFile; self.detectionCandidates = detectionCandidates
    }
}

public struct DetectionFile: Sendable, Equatable {
    public var path: String
    public var format: DetectionFormat
    public init(path: String, format: DetectionFormat) { self.path = path; self.format = format }
}

/// An entry of the archive the scan did not take, and why (it goes to the job report).
public struct SkippedEntry: Codable, Equatable, Sendable {
    public var path: String
    public var reason: String
    public init(path: String, reason: String) { self.path = path; self.reason = reason }
}

/// What a scan found: the videos to annotate, videos that fail before planning (same name as
/// another), and entries not followed.
public struct ArchiveScan: Sendable, Equatable {
    /// Sorted by name; names are unique.
    public var videos: [VideoEntry] = []
    /// Videos whose name another video has too: none of them is annotated (outputs would collide).
    public var failed: [(entry: VideoEntry, reason: String)] = []
    public var skipped: [SkippedEntry] = []

    public init(videos: [VideoEntry] = [], skipped: [SkippedEntry] = []) { self.videos = videos; self.skipped = skipped }

    public static func == (a: ArchiveScan, b: ArchiveScan) -> Bool {
        a.videos == b.videos && a.skipped == b.skipped && a.failed.map(\.entry) == b.failed.map(\.entry) && a.failed.map(\.reason) == b.failed.map(\.reason)
    }

    /// Why an archive with nothing to do is refused (nil when there is something).
    public func nothingToDo(archive: String) -> ArchiveError? {
        guard videos.isEmpty && failed.isEmpty else { return nil }
        var reason = "no videos found: looked for video files (\(ArchiveScanner.videoExtensions.sorted().joined(separator: ", "))) and folders of JPEG frames, \(ArchiveScanner.depthMax) levels deep (hidden entries and folders named \(ArchiveScanner.skippedFolders.sorted().joined(separator: " or ")) are skipped)"
        if !skipped.isEmpty { reason += "; set aside: " + skipped.prefix(3).map { "\($0.path) (\($0.reason))" }.joined(separator: "; ") }
        return ArchiveError(.noVideos, path: archive, reason: reason)
    }
}

public enum ArchiveScanner {
    public static let videoExtensions: Set<String> = ["mp4", "mkv", "mov", "avi", "webm"]
    /// How deep below the archive folder we look.
    public static let depthMax = 8
    /// Most videos in one archive.
    public static let videoCountMax = 1_000_000
    /// Most entries set aside (skipped folders and links) recorded; later ones are counted only.
    public static let skippedRecordedMax = 1_000
    /// Folders that never hold inputs (ground truth of a synthetic archive, outputs).
    public static let skippedFolders: Set<String> = ["annotations", JobReport.folderName]

    /// The videos of the archive (see `scanArchive`), for callers that need only them.
    public static func scan(_ options: ArchiveOptions) throws -> [VideoEntry] {
        try scanArchive(options).videos
    }

    /// Every video file and JPEG frame folder under `options.archive`, sorted by name. Links to
    /// files are followed; links to folders only when the folder is inside the archive, and each
    /// folder is entered once (by device and inode), so links cannot leave the archive or loop.
    /// Throws only when the archive folder itself cannot be listed or holds over `videoCountMax`.
    public static func scanArchive(_ options: ArchiveOptions) throws -> ArchiveScan {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: options.archive, isDirectory: &isDirectory), isDirectory.boolValue else {
            throw ArchiveError(.archiveUnreadable, path: options.archive, reason: "not a folder")
        }
        let root = realPath(options.archive) ?? options.archive
        var walker = Walker(options: options, root: root)
        if let identity = FolderIdentity(path: options.archive) { walker.visited.insert(identity) }
        guard let names = try? FileManager.default.contentsOfDirectory(atPath: options.archive) else {
            throw ArchiveError(.archiveUnreadable, path: options.archive, reason: "cannot list the folder")
        }
        try walker.walk(options.archive, names: names, depth: 0)
        var found = walker.found
        found.sort { ($0.name, $0.path) < ($1.name, $1.path) }
        var scan = ArchiveScan(skipped: walker.skipped)
        var start = 0
        while start < found.count {
            var end = start + 1
            while end < found.count && found[end].name == found[start].name { end += 1 }
            if end - start == 1 {
                scan.videos.append(found[start])
            } else {
                let paths = found[start..<end].map(\.path)
                for entry in found[start..<end] {
                    let others = paths.filter { $0 != entry.path }.joined(separator: ", ")
                    scan.failed.append((entry, "has the same name \"\(entry.name)\" as \(others); outputs would collide, so none of them is annotated (rename one)"))
                }
            }
            start = end
        }
        return scan
    }

    /// A folder's device and inode: the same folder reached twice (a link loop) is seen once.
    struct FolderIdentity: Hashable {
        let device: UInt64
        let inode: UInt64
        init?(path: String) {
            var info = stat()
            guard stat(path, &info) == 0 else { return nil }
            device = UInt64(info.st_dev); inode = UInt64(info.st_ino)
        }
    }

    static func realPath(_ path: String) -> String? {
        guard let resolved = realpath(path, nil) else { return nil }
        defer { free(resolved) }
        return String(cString: resolved)
    }

    private struct Walker {
        let options: ArchiveOptions
        let root: String
        var visited: Set<FolderIdentity> = []
        var found: [VideoEntry] = []
        var skipped: [SkippedEntry] = []

        mutating func skip(_ path: String, _ reason: String) {
            if skipped.count < skippedRecordedMax { skipped.append(SkippedEntry(path: path, reason: reason)) }
        }

        mutating func walk(_ folder: String, names: [String], depth: Int) throws {
            for name in names.sorted() where !name.hasPrefix(".") {
                let path = folder + "/" + name
                var linkInfo = stat()
                guard lstat(path, &linkInfo) == 0 else { continue }
                let isLink = (linkInfo.st_mode & S_IFMT) == S_IFLNK
                var info = stat()
                guard stat(path, &info) == 0 else {
                    let ext = (name as NSString).pathExtension.lowercased()
                    if isLink && videoExtensions.contains(ext) { skip(path, "a link to nothing") }
                    continue
                }
                if (info.st_mode & S_IFMT) == S_IFDIR {
                    if skippedFolders.contains(name) { continue }
                    if isLink {
                        guard let target = realPath(path), target == root || target.hasPrefix(root + "/") else {
                            skip(path, "a link to a folder outside the archive (\(realPath(path) ?? "unresolvable")): not followed")
                            continue
                        }
                    }
                    guard visited.insert(FolderIdentity(path: path)!).inserted else {
                        skip(path, "a folder already scanned under another path (a link loop or a second link to it): not scanned again")
                        continue
                    }
                    let entries: [String]
                    do { entries = try FileManager.default.contentsOfDirectory(atPath: path) } catch {
                        skip(path, "cannot list the folder (\(access(path, R_OK | X_OK) == 0 ? "an I/O error" : "no permission")): not scanned")
                        continue
                    }
                    if Self.hasJPEGs(entries) {
                        found.append(entry(name: name, path: path, kind: .frameFolder, options: options))
                    } else if depth + 1 < depthMax {
                        try walk(path, names: entries, depth: depth + 1)
                    }
                } else if (info.st_mode & S_IFMT) == S_IFREG {
                    let ext = (name as NSString).pathExtension.lowercased()
                    guard videoExtensions.contains(ext) else { continue }
                    found.append(entry(name: String(name.dropLast(ext.count + 1)), path: path, kind: .videoFile, options: options))
                }
                guard found.count <= videoCountMax else {
                    throw ArchiveError(.archiveUnreadable, path: options.archive, reason: "more than videoCountMax \(videoCountMax) videos")
                }
            }
        }

        static func hasJPEGs(_ names: [String]) -> Bool {
            names.contains { let lower = $0.lowercased(); return !$0.hasPrefix(".") && (lower.hasSuffix(".jpg") || lower.hasSuffix(".jpeg")) }
        }
    }

    /// The detection file of a video: in `options.detections` if given, else next to the video.
    static func entry(name: String, path: String, kind: VideoEntry.Kind, options: ArchiveOptions) -> VideoEntry {
        let folder = options.detections ?? (path as NSString).deletingLastPathComponent
        let formats = options.detectionFormat.map { [$0] } ?? DetectionFormat.lookupOrder
        var candidates: [String] = []
        for format in formats {
            let candidate = folder + "/" + name + "." + format.rawValue
            candidates.append(candidate)
            var isDirectory: ObjCBool = false
            if FileManager.default.fileExists(atPath: candidate, isDirectory: &isDirectory), !isDirectory.boolValue {
                return VideoEntry(name: name, path: path, kind: kind, detectionFile: DetectionFile(path: candidate, format: format), detectionCandidates: candidates)
            }
        }
        return VideoEntry(name: name, path: path, kind: kind, detectionFile: nil, detectionCandidates: candidates)
    }
}
