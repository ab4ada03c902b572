// A reader of the safetensors format: an 8-byte little-endian header length, a JSON header
// mapping tensor names to dtype, shape and byte offsets, then the raw little-endian data. The
// file is memory-mapped, every offset and size is checked against the file and the shape, and
// F32, F16 and BF16 tensors are read as Float32.
import Foundation

/// A memory-mapped safetensors file.
public final class SafetensorsFile: @unchecked Sendable {
    public struct TensorInfo: Sendable {
        public var dtype: String
        public var shape: [Int]
        public var offset: Int
        public var length: Int
    }

    public let path: String
    public let tensors: [String: TensorInfo]
    private let data: Data
    private let dataStart: Int

    public init(path: String) throws {
        self.path = path
        guard FileManager.default.fileExists(atPath: path) else { throw TextModelError("\(path): no such file") }
        do { data = try Data(contentsOf: URL(fileURLWithPath: path), options: .alwaysMapped) } catch {
            throw TextModelError("\(path): cannot be read (\(error.localizedDescription))")
        }
        func bad(_ why: String) -> TextModelError { TextModelError("\(path): not a valid safetensors file: \(why)") }
        guard data.count >= 8 else { throw bad("shorter than its 8-byte header length") }
        let headerLength = data.withUnsafeBytes { Int(UInt64(littleEndian: $0.loadUnaligned(fromByteOffset: 0, as: UInt64.self))) }
        guard headerLength > 1, headerLength <= data.count - 8, headerLength < 100_000_000 else { throw bad("header length \(headerLength) does not fit the file") }
        guard let header = try? JSONSerialization.jsonObject(with: data.subdata(in: 8..<(8 + headerLength))) as? [String: Any] else {
            throw bad("the header is not a JSON object")
        }
        dataStart = 8 + headerLength
        let available = data.count - dataStart
        var tensors: [String: TensorInfo] = [:]
        for (name, value) in header where name != "__metadata__" {
            guard let t = value as? [String: Any], let dtype = t["dtype"] as? String, let shape = t["shape"] as? [Int],
                  let offsets = t["data_offsets"] as? [Int], offsets.count == 2 else { throw bad("tensor '\(name)' lacks dtype, shape or data_offsets") }
            let widths = ["F64": 8, "I64": 8, "U64": 8, "F32": 4, "I32": 4, "U32": 4, "F16": 2, "BF16": 2, "I16": 2, "U16": 2, "I8": 1, "U8": 1, "BOOL": 1]
            guard let width = widths[dtype] else { throw bad("tensor '\(name)' has an unknown dtype \(dtype)") }
            guard shape.allSatisfy({ $0 >= 0 }) else { throw bad("tensor '\(name)' has a negative dimension") }
            let count = shape.reduce(1, *)
            guard offsets[0] >= 0, offsets[1] >= offsets[0], offsets[1] <= available else { throw bad("tensor '\(name)' lies outside the file") }
            guard offsets[1] - offsets[0] == count * width else { throw bad("tensor '\(name)' holds \(offsets[1] - offsets[0]) bytes, its shape \(shape) needs \(count * width)") }
            tensors[name] = TensorInfo(dtype: dtype, shape: shape, offset: offsets[0], length: offsets[1] - offsets[0])
        }
        self.tensors = tensors
    }

    /// The tensor as Float32 values, checking its shape when `shape` is given.
    public func floats(_ name: String, shape expected: [Int]? = nil) throws -> [Float] {
        guard let t = tensors[name] else { throw TextModelError("\(path): no tensor '\(name)'") }
        if let expected, expected != t.shape { throw TextModelError("\(path): tensor '\(name)' has shape \(t.shape), expected \(expected)") }
        guard ["F32", "F16", "BF16"].contains(t.dtype) else { throw TextModelError("\(path): tensor '\(name)' is \(t.dtype), not a float tensor") }
        let count = t.shape.reduce(1, *)
        let start = dataStart + t.offset
        return data.withUnsafeBytes { raw -> [Float] in
            switch t.dtype {
            case "F32":
                return (0..<count).map { Float(bitPattern: UInt32(littleEndian: raw.loadUnaligned(fromByteOffset: start + 4 * $0, as: UInt32.self))) }
            case "BF16":
                return (0..<count).map { Float(bitPattern: UInt32(UInt16(littleEndian: raw.loadUnaligned(fromByteOffset: start + 2 * $0, as: UInt16.self))) << 16) }
            default:
                return (0..<count).map { Float(Float16(bitPattern: UInt16(littleEndian: raw.loadUnaligned(fromByteOffset: start + 2 * $0, as: UInt16.self)))) }
            }
        }
    }
}
