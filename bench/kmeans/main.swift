// Encore's side of the k-means benchmark: reads a raw little-endian Float32 matrix and runs
// EncoreMath.KMeans with the given settings; prints seconds and inertia as JSON.
// Usage: encore-bench-kmeans FILE ROWS COLUMNS K N_INIT MAX_ITER
import EncoreMath
import Foundation

BLAS.setThreads(1)
let args = CommandLine.arguments
guard args.count == 7, let rows = Int(args[2]), let cols = Int(args[3]), let k = Int(args[4]), let nInit = Int(args[5]), let maxIter = Int(args[6]) else {
    FileHandle.standardError.write(Data("usage: encore-bench-kmeans FILE ROWS COLUMNS K N_INIT MAX_ITER\n".utf8))
    exit(1)
}
guard let data = FileManager.default.contents(atPath: args[1]), data.count == rows * cols * 4 else {
    FileHandle.standardError.write(Data("error: \(args[1]) must hold \(rows) × \(cols) float32 values\n".utf8))
    exit(1)
}
let values = data.withUnsafeBytes { Array($0.bindMemory(to: Float.self)) }
let x = DenseMatrix(rows: rows, columns: cols, values: values)
var c = KMeansConfiguration(k: k, nInit: nInit, seed: 42)
c.maxIterations = maxIter
c.miniBatchAbove = Int.max  // full Lloyd, as the peer
let start = Date()
let r = try KMeans.fit(x, configuration: c)
let seconds = Date().timeIntervalSince(start)
print("{\"seconds\": \(seconds), \"inertia\": \(r.inertia), \"iterations\": \(r.iterations)}")
