import CLZ4

// The one gateway between RaftStorage and liblz4's frame API (principle 7): every LZ4F call
// lives in this file, every result goes through `lz4Checked`, and both contexts own their
// buffers, sized once from named bounds, so no call can be handed a buffer that is too small.

/// An lz4 frame call failed; `reason` is liblz4's error name (e.g. "ERROR_contentChecksum_invalid").
struct LZ4FrameError: Error, Equatable {
    let call: String
    let reason: String
}

/// The magic number that starts every lz4 frame (lz4 frame format §"General Structure").
let lz4FrameMagic: UInt32 = 0x184D_2204

/// Turns an LZ4F return code into a value or an `LZ4FrameError` naming the call.
private func lz4Checked(_ call: String, _ code: Int) throws(LZ4FrameError) -> Int {
    guard LZ4F_isError(code) != 0 else { return code }
    throw LZ4FrameError(call: call, reason: String(cString: LZ4F_getErrorName(code)))
}

/// Streams bytes into one lz4 frame (linked 256 KiB blocks, block and content checksums on,
/// so `lz4 -d` verifies the data it restores too). Each call returns a view of the encoder's
/// own output buffer, valid until the next call; write it out before calling again.
final class LZ4FrameEncoder {
    /// The most input one `update` accepts, in bytes; the output buffer is sized for it.
    let inputBytesMax: Int
    private let context: OpaquePointer
    private var preferences: LZ4F_preferences_t
    private let output: UnsafeMutableRawBufferPointer

    /// `compressionLevel` 0 is lz4's fast mode; 3...12 select lz4hc (smaller, much slower).
    init(inputBytesMax: Int, compressionLevel: Int32) {
        precondition(inputBytesMax > 0, "the encoder needs a positive input bound")
        self.inputBytesMax = inputBytesMax
        var prefs = LZ4F_preferences_t()  // zeroed: every field at its documented default
        // 256 KiB blocks: lz4's window is 64 KiB and blocks are linked, so larger blocks barely
        // improve the ratio, while the decoder of anything we write needs only this much.
        prefs.frameInfo.blockSizeID = LZ4F_max256KB
        prefs.frameInfo.blockMode = LZ4F_blockLinked
        prefs.frameInfo.contentChecksumFlag = LZ4F_contentChecksumEnabled
        // A checksum per block as well: a flipped byte is reported at its block, before the
        // block's garbage reaches a consumer, not only by the content checksum at the end.
        prefs.frameInfo.blockChecksumFlag = LZ4F_blockChecksumEnabled
        prefs.compressionLevel = compressionLevel
        preferences = prefs
        var created: OpaquePointer?
        let code = LZ4F_createCompressionContext(&created, UInt32(LZ4F_VERSION))
        // Creating a context only allocates; failing means memory is gone, which no caller handles.
        precondition(LZ4F_isError(code) == 0 && created != nil, "LZ4F_createCompressionContext failed")
        context = created!
        // compressBound covers the worst case of `inputBytesMax` new bytes plus whatever the
        // context still buffers, and also the frame end; the header needs at most 19 bytes.
        let bound = max(LZ4F_compressBound(inputBytesMax, &prefs), Int(LZ4F_HEADER_SIZE_MAX))
        output = .allocate(byteCount: bound, alignment: 16)
    }

    deinit {
        LZ4F_freeCompressionContext(context)
        output.deallocate()
    }

    /// Starts the frame: returns the frame header.
    func begin() -> UnsafeRawBufferPointer {
        produced("LZ4F_compressBegin") { LZ4F_compressBegin(context, output.baseAddress, output.count, &preferences) }
    }

    /// Compresses up to `inputBytesMax` bytes; may return nothing while lz4 fills a block.
    func update(_ input: UnsafeRawBufferPointer) -> UnsafeRawBufferPointer {
        precondition(input.count <= inputBytesMax, "lz4 update of \(input.count) bytes exceeds \(inputBytesMax)")
        if input.isEmpty { return UnsafeRawBufferPointer(start: nil, count: 0) }
        return produced("LZ4F_compressUpdate") {
            LZ4F_compressUpdate(context, output.baseAddress, output.count, input.baseAddress, input.count, nil)
        }
    }

    /// Flushes the last block and writes the end mark and the content checksum.
    func end() -> UnsafeRawBufferPointer {
        produced("LZ4F_compressEnd") { LZ4F_compressEnd(context, output.baseAddress, output.count, nil) }
    }

    private func produced(_ call: String, _ body: () -> Int) -> UnsafeRawBufferPointer {
        // With the output sized by compressBound the compressor cannot fail on any input; an
        // error here is a bug in this file, not a fault of the world (principle 5).
        let count: Int
        do throws(LZ4FrameError) { count = try lz4Checked(call, body()) } catch {
            preconditionFailure("\(error.call) failed: \(error.reason)")
        }
        return UnsafeRawBufferPointer(start: output.baseAddress, count: count)
    }
}

/// Decodes one lz4 frame from input handed over in pieces of any size, into pieces of at most
/// `outputBytesMax`. Hostile input is safe: liblz4 bounds-checks every block and uses at most
/// one maximum-size block (4 MiB) plus a 64 KiB window of internal memory whatever the header says.
final class LZ4FrameDecoder {
    /// The largest piece `step` returns, in bytes.
    let outputBytesMax: Int
    private let context: OpaquePointer
    private let output: UnsafeMutableRawBufferPointer

    /// What one `step` did: input bytes used, bytes produced (a view valid until the next
    /// call), whether the frame's end mark and checksum have been read and verified, and how
    /// many input bytes liblz4 wants next (the rest of the current block and the next block's
    /// header; feeding exactly that decodes one block per step and spares a copy).
    struct Step {
        var consumed: Int
        var output: UnsafeRawBufferPointer
        var frameEnded: Bool
        var nextInputHint: Int
    }

    init(outputBytesMax: Int) {
        precondition(outputBytesMax > 0, "the decoder needs a positive output bound")
        self.outputBytesMax = outputBytesMax
        var created: OpaquePointer?
        let code = LZ4F_createDecompressionContext(&created, UInt32(LZ4F_VERSION))
        precondition(LZ4F_isError(code) == 0 && created != nil, "LZ4F_createDecompressionContext failed")
        context = created!
        output = .allocate(byteCount: outputBytesMax, alignment: 16)
    }

    deinit {
        LZ4F_freeDecompressionContext(context)
        output.deallocate()
    }

    /// Decodes from the start of `input`. Call again with the unconsumed rest (or with no input
    /// once the input is exhausted: liblz4 may still hold decoded bytes that did not fit).
    func step(_ input: UnsafeRawBufferPointer) throws(LZ4FrameError) -> Step {
        var sourceBytes = input.count
        var producedBytes = output.count
        // liblz4 wants a real pointer even for an empty input; it reads none of its bytes.
        let source = input.baseAddress ?? UnsafeRawPointer(output.baseAddress!)
        let hint = try lz4Checked(
            "LZ4F_decompress",
            LZ4F_decompress(context, output.baseAddress, &producedBytes, source, &sourceBytes, nil))
        return Step(consumed: sourceBytes,
                    output: UnsafeRawBufferPointer(start: output.baseAddress, count: producedBytes),
                    frameEnded: hint == 0, nextInputHint: hint)
    }
}
