import CRC32C

/// Streams a snapshot's state-machine bytes out of its file (or out of a whole file received
/// in memory), decompressing in pieces of at most `SnapshotStore.decompressPieceBytes`.
///
/// The bytes are provisional until `next()` returns nil: only then have the lz4 content
/// checksum, the size and the CRC-32C of the whole data been verified. A caller that restores
/// a state machine piece by piece must throw away what it built if `next()` throws.
public final class SnapshotDataReader {
    /// The snapshot's metadata frame, already verified.
    public let metadata: SnapshotMetadata
    /// Where the bytes come from, as named in errors.
    public let path: String

    /// Bytes come from an open file (read in bounded ranges) or from a received file in memory.
    enum Source {
        case file(any StorageFile)
        case bytes([UInt8])
    }

    private let source: Source
    private let decoder: LZ4FrameDecoder
    private let frameEnd: Int
    /// The file offset of the next byte to read from `source`.
    private var readOffset: Int
    /// The last range read, and how much of it the decoder has used.
    private var input: [UInt8] = []
    private var inputUsed = 0
    private var producedBytes = 0
    private var dataCRC: UInt32 = 0
    private var frameEnded = false
    /// Input bytes to hand the decoder next: its own hint, so a step covers one block and an
    /// lz4 error names the offset of the block it is in. The frame header needs at least 7.
    private var inputHint = 7
    private var verified = false
    private var failure: StorageError?

    init(source: Source, path: String, metadata: SnapshotMetadata) throws(StorageError) {
        self.source = source
        self.path = path
        self.metadata = metadata
        readOffset = metadata.metadataFrameBytes
        frameEnd = metadata.fileSizeBytes
        decoder = LZ4FrameDecoder(outputBytesMax: SnapshotStore.decompressPieceBytes)
        // liblz4 would also accept a skippable or legacy frame here; only a real frame carries
        // the data and its checksum, so insist on one.
        let magic = try read(at: readOffset, count: 4)
        guard magic == [0x04, 0x22, 0x4D, 0x18] else {
            throw .corrupt(path: path, offset: readOffset, reason: "no lz4 frame after the metadata frame")
        }
    }

    /// The next piece of decompressed bytes (never empty), or nil once the frame has ended and
    /// the data's size and CRC-32C match the metadata. Errors: `.corrupt` for any lz4 error,
    /// a short or long frame, bytes after the frame, a size or checksum mismatch; `.io` from
    /// reading the file.
    /// After an error every later call throws it again: liblz4 cannot resume a failed frame.
    public func next() throws(StorageError) -> [UInt8]? {
        if let failure { throw failure }
        do throws(StorageError) {
            return try decodeNext()
        } catch {
            failure = error
            close()
            throw error
        }
    }

    private func decodeNext() throws(StorageError) -> [UInt8]? {
        if verified { return nil }
        while !frameEnded {
            if inputUsed == input.count && readOffset < frameEnd {
                input = try read(at: readOffset, count: min(SnapshotStore.decompressReadBytes, frameEnd - readOffset))
                guard !input.isEmpty else {
                    throw .corrupt(path: path, offset: readOffset, reason: "file shrank while being read")
                }
                readOffset += input.count
                inputUsed = 0
            }
            let inputOffset = readOffset - input.count + inputUsed
            // (Array.withUnsafeBytes only rethrows untyped errors; carry the typed one out.)
            let result = input.withUnsafeBytes { raw in
                Result { () throws(LZ4FrameError) in
                    let stop = inputUsed + min(raw.count - inputUsed, max(inputHint, 1))
                    return try decoder.step(UnsafeRawBufferPointer(rebasing: raw[inputUsed..<stop]))
                }
            }
            let step: LZ4FrameDecoder.Step
            switch result {
            case .success(let done): step = done
            case .failure(let error): throw .corrupt(path: path, offset: inputOffset, reason: "lz4: \(error.reason)")
            }
            inputUsed += step.consumed
            frameEnded = step.frameEnded
            inputHint = step.nextInputHint
            if step.output.count > 0 {
                producedBytes += step.output.count
                guard producedBytes <= metadata.dataSizeBytes else {
                    throw .corrupt(path: path, offset: inputOffset,
                                   reason: "decompresses to more than the \(metadata.dataSizeBytes) bytes the metadata records")
                }
                dataCRC = CRC32C.checksum(step.output, extending: dataCRC)
                return Array(step.output)
            }
            // Nothing produced or consumed: with all input used the frame stops short; with
            // input left liblz4 is stuck (it always makes progress when it can), which must
            // not become an endless loop.
            if !frameEnded && step.consumed == 0 && readOffset == frameEnd && inputUsed == input.count {
                throw .corrupt(path: path, offset: frameEnd, reason: "lz4 frame ends before its end mark (truncated)")
            }
            if !frameEnded && step.consumed == 0 && inputUsed < input.count {
                throw .corrupt(path: path, offset: inputOffset, reason: "lz4 decoder makes no progress")
            }
        }
        let frameStop = readOffset - (input.count - inputUsed)
        guard frameStop == frameEnd else {
            throw .corrupt(path: path, offset: frameStop, reason: "\(frameEnd - frameStop) bytes after the lz4 frame")
        }
        guard producedBytes == metadata.dataSizeBytes else {
            throw .corrupt(path: path, offset: frameEnd,
                           reason: "decompressed \(producedBytes) bytes, the metadata records \(metadata.dataSizeBytes)")
        }
        guard dataCRC == metadata.dataCRC32C else {
            throw .corrupt(path: path, offset: frameEnd, reason: "data checksum mismatch after decompression")
        }
        verified = true
        close()
        return nil
    }

    /// Reads and verifies everything, discarding the bytes.
    public func verifyAll() throws(StorageError) {
        while try next() != nil {}
    }

    /// Closes the file early (also done at the end and on deinit).
    public func close() {
        if case .file(let file) = source { file.close() }
    }

    deinit { close() }

    private func read(at offset: Int, count: Int) throws(StorageError) -> [UInt8] {
        switch source {
        case .file(let file):
            return try file.read(at: offset, count: count)
        case .bytes(let bytes):
            let stop = min(bytes.count, offset + count)
            return offset < stop ? Array(bytes[offset..<stop]) : []
        }
    }
}
