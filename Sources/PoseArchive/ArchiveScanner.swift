// Finding the videos of an archive and each one's detection file. Deterministic: entries are
// sorted by name, whatever order the file system lists them in.
import Foundation

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

public enum ArchiveScanner {
    public static let videoExtensions: Set<String> = ["mp4", "mkv", "mov", "avi", "webm"]
    /// How deep below the archive folder we look.
    public static let depthMax = 8
    /// Most videos in one archive.
    public static let videoCountMax = 1_000_000
    /// Folders that never hold inputs (ground truth of a synthetic archive, outputs).
    public static let skippedFolders: Set<String> = ["annotations", JobReport.folderName]

    /// Every video file and JPEG frame folder under `options.archive`, sorted by name.
    /// Two videos with the same name would write the same output file: that is an error.
    public static func scan(_ options: ArchiveOptions) throws -> [VideoEntry] {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: options.archive, isDirectory: &isDirectory), isDirectory.boolValue else {
            throw ArchiveError(.archiveUnreadable, path: options.archive, reason: "not a folder")
        }
        var found: [VideoEntry] = []
        try walk(options.archive, depth: 0, options: options, into: &found)
        found.sort { ($0.name, $0.path) < ($1.name, $1.path) }
        for (a, b) in zip(found, found.dropFirst()) where a.name == b.name {
            throw ArchiveError(.duplicateName, path: b.path, reason: "has the same name \"\(a.name)\" as \(a.path); outputs would collide")
        }
        return found
    }

    private static func walk(_ folder: String, depth: Int, options: ArchiveOptions, into found: inout [VideoEntry]) throws {
        let names: [String]
        do { names = try FileManager.default.contentsOfDirectory(atPath: folder).sorted() } catch {
            throw ArchiveError(.archiveUnreadable, path: folder, reason: "cannot list the folder")
        }
        for name in names where !name.hasPrefix(".") {
            let path = folder + "/" + name
            var isDirectory: ObjCBool = false
            guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else { continue }
            if isDirectory.boolValue {
                if skippedFolders.contains(name) { continue }
                if hasJPEGs(path) {
                    found.append(entry(name: name, path: path, kind: .frameFolder, options: options))
                } else if depth + 1 < depthMax {
                    try walk(path, depth: depth + 1, options: options, into: &found)
                }
            } else {
                let ext = (name as NSString).pathExtension.lowercased()
                guard videoExtensions.contains(ext) else { continue }
                found.append(entry(name: String(name.dropLast(ext.count + 1)), path: path, kind: .videoFile, options: options))
            }
            guard found.count <= videoCountMax else {
                throw ArchiveError(.archiveUnreadable, path: options.archive, reason: "more than videoCountMax \(videoCountMax) videos")
            }
        }
    }

    private static func hasJPEGs(_ folder: String) -> Bool {
        guard let names = try? FileManager.default.contentsOfDirectory(atPath: folder) else { return false }
        return names.contains { let lower = $0.lowercased(); return !$0.hasPrefix(".") && (lower.hasSuffix(".jpg") || lower.hasSuffix(".jpeg")) }
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
