// Encore's side of the LightGCN benchmark: trains LightGCN once on the shared split and, at each
// checkpoint, ranks for every test user with the model as it stands (RankingProtocol, DESIGN.md's
// metrics). Prints one JSON line per checkpoint: epochs, NDCG@10, recall@30, NDCG@30, wall and CPU
// seconds per epoch (training only) and the peak resident memory so far.
// Usage: encore-bench-lightgcn SPLIT_DIR EPOCHS_CSV [CONFIG_JSON]
import EncoreData
import EncoreEval
import EncoreMath
import EncoreModels
import Foundation

BLAS.setThreads(1)
let args = CommandLine.arguments
guard args.count >= 3 else {
    FileHandle.standardError.write(Data("usage: encore-bench-lightgcn SPLIT_DIR EPOCHS_CSV [CONFIG_JSON]\n".utf8))
    exit(1)
}
let checkpoints = Set(args[2].split(separator: ",").compactMap { Int($0) })
let split = try SplitFiles.load(train: args[1] + "/train.tsv", test: args[1] + "/test.tsv", options: LoadOptions(lenient: false, progress: false))
var config = try ConfigurationOverrides.apply(args.count > 3 ? args[3] : nil, to: LightGCNConfiguration(), model: "lightgcn")
config.epochs = checkpoints.max() ?? 0

func cpuSeconds() -> Double {
    var u = rusage()
    getrusage(RUSAGE_SELF.rawValue, &u)
    return Double(u.ru_utime.tv_sec) + Double(u.ru_utime.tv_usec) / 1e6 + Double(u.ru_stime.tv_sec) + Double(u.ru_stime.tv_usec) / 1e6
}
func peakMiB() -> Double {
    var u = rusage()
    getrusage(RUSAGE_SELF.rawValue, &u)
    return Double(u.ru_maxrss) / 1024
}

var wall = 0.0, cpu = 0.0
var epochStart = Date(), cpuStart = cpuSeconds()
_ = try LightGCN(train: split.train, configuration: config) { epoch, loss, snapshot in
    wall += Date().timeIntervalSince(epochStart)
    cpu += cpuSeconds() - cpuStart
    if checkpoints.contains(epoch) {
        let model = snapshot()
        if let r = try? RankingProtocol.evaluate(fitted: model, train: split.train, test: split.test) {
            let m = r.metrics
            let line = ("{\"epochs\": \(epoch), \"ndcg_at_10\": \(m["ndcg_at_10"] ?? .nan), \"recall_at_30\": \(m["recall_at_30"] ?? .nan), "
                + "\"ndcg_at_30\": \(m["ndcg_at_30"] ?? .nan), \"loss\": \(loss), \"wall_seconds_per_epoch\": \(wall / Double(epoch)), "
                + "\"cpu_seconds_per_epoch\": \(cpu / Double(epoch)), \"peak_rss_mib\": \(peakMiB())}\n")
            FileHandle.standardOutput.write(Data(line.utf8))
        }
    }
    epochStart = Date()
    cpuStart = cpuSeconds()
}
