// posecoord render: the poses of an output folder drawn on the archive's own frames, as PNG
// frames, an MP4, or a contact sheet of frames sampled across the archive (docs/ARCHIVE.md).
import Foundation
import PoseArchive
import PoseCore
import PoseMedia
import PoseRender

enum RenderCommand {
    static let spec = CommandSpec("render", summary: "draw the poses of an output folder on the archive's own frames: PNG frames, MP4 or a contact sheet", options: [
        .required("--archive", "DIR", "the archive the poses were made from"),
        .required("--poses", "OUT", "the folder posecoord run or serve wrote (OUT/NAME.json per video)"),
        .required("--to", "DEST", "PNG frames go to DEST/NAME/000123.png (by frame, from 0), MP4s to DEST/NAME.mp4; with --sheet, one PNG file"),
        .option("--video", "NAME", "only this video (its name in the archive)", default: "every video with poses"),
        .option("--frames", "FIRST:END", "frames FIRST up to END - 1 (from 0; either side may be left out)", default: "all"),
        .flag("--mp4", "write an MP4 per video instead of PNG frames"),
        .option("--fps", "N", "frames per second of the MP4s", default: "25"),
        .option("--sheet", "N", "N frames spread evenly over the whole archive, drawn into one grid"),
        .option("--tile-width", "PIXELS", "width of each contact-sheet tile", default: "320"),
    ])

    static func main(_ arguments: inout CommandArguments) throws -> Int32 {
        let archive = try arguments.required("--archive")
        let posesFolder = try arguments.required("--poses")
        let destination = try arguments.required("--to")
        let only = try arguments.option("--video")
        let frames = try arguments.option("--frames")
        let mp4 = arguments.flag("--mp4")
        let fps = try arguments.int("--fps", range: 1...240)
        let sheet = try arguments.option("--sheet").map { text -> Int in
            guard let n = Int(text), (1...RenderLimits.sheetTilesMax).contains(n) else {
                throw UsageError("--sheet must be a number of frames from 1 to \(RenderLimits.sheetTilesMax), got \"\(text)\"")
            }
            return n
        }
        let tileWidth = try arguments.int("--tile-width", range: 16...RenderLimits.tileWidthMax)
        try arguments.finish()
        if sheet != nil && (mp4 || frames != nil) { throw UsageError("--sheet makes one PNG; it does not take --mp4 or --frames") }

        var entries = try ArchiveScanner.scan(ArchiveOptions(archive: archive))
        if let only {
            entries = entries.filter { $0.name == only }
            guard !entries.isEmpty else { throw UsageError("--video \(only): no video of that name in \(archive)") }
        }
        // Only videos with poses; a missing file is worth a line, not a failure (a run may be partial).
        var videos: [(entry: VideoEntry, poses: FramePoses)] = []
        for entry in entries {
            let path = posesFolder + "/" + entry.name + ".json"
            guard FileManager.default.fileExists(atPath: path) else {
                FileHandleOutput.error("render: \(entry.name): no poses (\(path)), skipped")
                continue
            }
            videos.append((entry, try FramePoses.load(path: path)))
        }
        guard !videos.isEmpty else { throw UsageError("no video of \(archive) has poses in \(posesFolder)") }

        if let sheet {
            let placed = try contactSheet(videos, tiles: sheet, tileWidth: tileWidth, to: destination)
            print("render: \(placed) frames of \(videos.count) video(s) in the contact sheet \(destination)")
            return 0
        }
        try FileManager.default.createDirectory(atPath: destination, withIntermediateDirectories: true)
        for (entry, poses) in videos {
            let source = try frameSource(entry)
            let range = try RenderVideo.range(frames, frameCount: source.info.frameCount)
            if mp4 {
                let path = destination + "/" + entry.name + ".mp4"
                let even = (source.info.width + source.info.width % 2, source.info.height + source.info.height % 2)
                let writer = try VideoFileWriter(path: path, width: even.0, height: even.1, framesPerSecond: fps)
                try RenderVideo.render(source: source, poses: poses, range: range) { _, image in try writer.write(RenderVideo.evenSized(image)) }
                try writer.finish()
                print("render: \(entry.name): frames \(range.lowerBound)...\(range.upperBound - 1) in \(path)")
            } else {
                let folder = destination + "/" + entry.name
                try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
                let writer = try PNGSequenceWriter(pattern: folder + "/%06d.png", width: source.info.width, height: source.info.height,
                                                   startNumber: range.lowerBound)
                try RenderVideo.render(source: source, poses: poses, range: range) { _, image in try writer.write(image) }
                try writer.finish()
                print("render: \(entry.name): frames \(range.lowerBound)...\(range.upperBound - 1) in \(folder)/")
            }
        }
        return 0
    }

    static func frameSource(_ entry: VideoEntry) throws -> FrameSource {
        switch entry.kind {
        case .videoFile: return try VideoFileFrameSource(path: entry.path)
        case .frameFolder: return try JPEGFolderFrameSource(folder: entry.path)
        }
    }

    /// `tiles` frames spread evenly over all videos' frames, in archive order, one PNG.
    static func contactSheet(_ videos: [(entry: VideoEntry, poses: FramePoses)], tiles: Int, tileWidth: Int, to path: String) throws -> Int {
        let sources = try videos.map { try frameSource($0.entry) }
        let counts = sources.map(\.info.frameCount)
        let picks = ContactSheet.samples(count: tiles, total: counts.reduce(0, +))
        let first = sources[0].info
        var sheet = ContactSheet(tiles: picks.count, frameWidth: first.width, frameHeight: first.height, tileWidth: tileWidth)
        var start = 0, cell = 0
        for (v, source) in sources.enumerated() {
            let mine = picks.filter { $0 >= start && $0 < start + counts[v] }.map { $0 - start }
            start += counts[v]
            guard let last = mine.last else { source.close(); continue }
            let wanted = Set(mine)
            try RenderVideo.render(source: source, poses: videos[v].poses, range: 0..<(last + 1)) { frame, image in
                guard wanted.contains(frame) else { return }
                sheet.place(image, at: cell, label: "\(videos[v].entry.name) #\(frame)")
                cell += 1
            }
        }
        let image = sheet.canvas.image
        let writer = try PNGSequenceWriter(pattern: path, width: image.width, height: image.height)
        try writer.write(image)
        try writer.finish()
        return cell
    }
}
