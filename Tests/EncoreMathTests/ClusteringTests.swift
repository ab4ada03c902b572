import Foundation
import Testing
@testable import EncoreMath

/// Three well-separated Gaussian blobs in 5 dimensions, 60 points each.
func blobs(seed: UInt64 = 3) -> (DenseMatrix, [Int]) {
    var g = SeededGenerator(seed: seed)
    let centres: [[Float]] = [[0, 0, 0, 0, 0], [10, 10, 0, 0, 0], [0, 10, 10, -10, 0]]
    var v: [Float] = []
    var truth: [Int] = []
    for (c, centre) in centres.enumerated() {
        for _ in 0..<60 {
            for q in 0..<5 { v.append(centre[q] + Float(g.nextGaussian() * 0.5)) }
            truth.append(c)
        }
    }
    return (DenseMatrix(rows: 180, columns: 5, values: v), truth)
}

@Suite struct KMeansTests {
    @Test func recoversSeparableBlobs() throws {
        let (x, truth) = blobs()
        let r = try KMeans.fit(x, configuration: KMeansConfiguration(k: 3, nInit: 3, seed: 1))
        // Same partition up to renaming.
        for i in 0..<180 { for j in 0..<180 where truth[i] == truth[j] { #expect(r.labels[i] == r.labels[j]) } }
        #expect(Set(r.labels).count == 3)
        #expect(r.sizes.sorted() == [60, 60, 60])
        // Inertia ≈ n · d · σ² = 180 · 5 · 0.25.
        #expect(abs(r.inertia - 225) < 60)
    }

    @Test func deterministicForASeed() throws {
        let (x, _) = blobs(seed: 9)
        let a = try KMeans.fit(x, configuration: KMeansConfiguration(k: 4, nInit: 2, seed: 5))
        let b = try KMeans.fit(x, configuration: KMeansConfiguration(k: 4, nInit: 2, seed: 5))
        #expect(a.labels == b.labels && a.centres == b.centres && a.inertia == b.inertia)
    }

    @Test func miniBatchFindsTheBlobsToo() throws {
        let (x, truth) = blobs()
        var c = KMeansConfiguration(k: 3, nInit: 1, seed: 2)
        c.miniBatchAbove = 10
        c.batchSize = 32
        let r = try KMeans.fit(x, configuration: c)
        var agree = 0, pairs = 0
        for i in stride(from: 0, to: 180, by: 7) { for j in stride(from: 0, to: 180, by: 11) { pairs += 1; if (truth[i] == truth[j]) == (r.labels[i] == r.labels[j]) { agree += 1 } } }
        #expect(Double(agree) / Double(pairs) > 0.95)
    }

    @Test func badInput() {
        let (x, _) = blobs()
        #expect(throws: ClusteringError.self) { try KMeans.fit(x, configuration: KMeansConfiguration(k: 0)) }
        #expect(throws: ClusteringError.self) { try KMeans.fit(x, configuration: KMeansConfiguration(k: 181)) }
        #expect(throws: ClusteringError.self) { try KMeans.fit(DenseMatrix(rows: 0, columns: 3, values: []), configuration: KMeansConfiguration(k: 1)) }
        #expect(throws: ClusteringError.self) { try KMeans.fit(DenseMatrix(rows: 2, columns: 1, values: [1, .nan]), configuration: KMeansConfiguration(k: 1)) }
    }
}

@Suite struct ClusterQualityTests {
    // Points 0, 1 (cluster 0) and 4, 6 (cluster 1) on a line.
    let line = DenseMatrix(rows: 4, columns: 1, values: [0, 1, 4, 6])
    let labels: [Int32] = [0, 0, 1, 1]

    @Test func silhouetteByHand() throws {
        // s(0) = (5 − 1)/5 = 0.8; s(1) = (4 − 1)/4 = 0.75; s(4) = (3.5 − 2)/3.5; s(6) = (5.5 − 2)/5.5.
        let expected = (0.8 + 0.75 + 1.5 / 3.5 + 3.5 / 5.5) / 4
        let s = try ClusterQuality.silhouette(line, labels: labels)
        #expect(abs(s.score - expected) < 1e-6)
        #expect(!s.sampled && s.sampleSize == 4)
        let sampled = try ClusterQuality.silhouette(line, labels: labels, exactLimit: 2, sampleSize: 3)
        #expect(sampled.sampled && sampled.sampleSize == 3)
    }

    @Test func daviesBouldinByHand() throws {
        // Centroids 0.5 and 5; scatters 0.5 and 1; DB = (0.5 + 1) / 4.5 for both clusters.
        #expect(abs(try ClusterQuality.daviesBouldin(line, labels: labels) - 1.5 / 4.5) < 1e-9)
        #expect(throws: ClusteringError.self) { try ClusterQuality.daviesBouldin(line, labels: [0, 0, 0, 0]) }
        #expect(throws: ClusteringError.self) { try ClusterQuality.silhouette(line, labels: [0, 0, 0, 0]) }
    }
}

@Suite struct ProjectionTests {
    @Test func pcaOfARankTwoMatrixRecoversThePlane() throws {
        // Points a·u + b·v in 6-D: two components explain everything, and the plane is span(u, v).
        let u: [Double] = [1, 0, 1, 0, 1, 0].map { $0 / 3.0.squareRoot() }
        let v: [Double] = [0, 1, 0, 1, 0, -1].map { $0 / 3.0.squareRoot() }
        var g = SeededGenerator(seed: 4)
        var values: [Float] = []
        for _ in 0..<200 {
            let a = g.nextGaussian() * 3, b = g.nextGaussian()
            for q in 0..<6 { values.append(Float(a * u[q] + b * v[q])) }
        }
        let r = try RandomizedPCA.fit(DenseMatrix(rows: 200, columns: 6, values: values), components: 3)
        #expect(r.explainedVariance[2] < 1e-6 * r.explainedVariance[0])
        for c in 0..<2 {
            // Each component lies in the plane: its projection on u and v has norm 1.
            let pu = (0..<6).reduce(0.0) { $0 + Double(r.components[c, $1]) * u[$1] }
            let pv = (0..<6).reduce(0.0) { $0 + Double(r.components[c, $1]) * v[$1] }
            #expect(abs(pu * pu + pv * pv - 1) < 1e-3)
        }
        #expect(throws: ClusteringError.self) { try RandomizedPCA.fit(DenseMatrix(rows: 200, columns: 6, values: values), components: 7) }
    }

    @Test func tsneKeepsSeparatedBlobsSeparated() throws {
        let (x, truth) = blobs()
        var c = TSNEConfiguration()
        c.iterations = 400
        let y = try TSNE.embed(x, configuration: c)
        // Every point's nearest neighbour in the embedding is from its own blob.
        var wrong = 0
        for i in 0..<y.rows {
            var best = -1
            var bestD = Float.infinity
            for j in 0..<y.rows where j != i {
                let dx = y[i, 0] - y[j, 0], dy = y[i, 1] - y[j, 1]
                if dx * dx + dy * dy < bestD { bestD = dx * dx + dy * dy; best = j }
            }
            if truth[best] != truth[i] { wrong += 1 }
        }
        #expect(wrong == 0)
        #expect(throws: ClusteringError.self) { try TSNE.embed(DenseMatrix(rows: 2, columns: 1, values: [0, 1])) }
    }
}
