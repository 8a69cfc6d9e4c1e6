// How many windows a video will have, from its detection file alone (no probing, no decoding):
// one per box at or above the threshold. Planning later drops boxes outside the video or empty
// after clipping, so this is an upper bound that is exact for well-formed files; the coordinator
// uses it to know the job's size from the first second.
extension VideoEntry {
    /// Boxes in the detection file scoring at least the threshold; nil without a readable file.
    public func estimatedWindows(options: ArchiveOptions) -> Int? {
        guard let file = detectionFile, let read = try? DetectionReader.read(file) else { return nil }
        return read.detections.reduce(0) { $0 + ($1.score >= options.detectionThreshold && !$1.box.isEmpty ? 1 : 0) }
    }
}
