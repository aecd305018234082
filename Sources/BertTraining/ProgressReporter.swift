import Foundation

/// Training progress on stderr: a one-line bar redrawn in place on a terminal (step, loss,
/// examples/s, ETA), plain lines every `plainEvery` steps when stderr is not a terminal.
public final class ProgressReporter {
    private let total: Int
    private let isTerminal: Bool
    private let plainEvery: Int
    private let start = Date()
    private var lastDraw = Date.distantPast

    public init(totalSteps: Int, plainEvery: Int = 20) {
        total = max(totalSteps, 1)
        isTerminal = isatty(2) != 0
        self.plainEvery = plainEvery
    }

    /// Reports step `step` (1-based) of the run.
    public func update(step: Int, loss: Float, examplesPerSecond: Double, epoch: Int) {
        let elapsed = Date().timeIntervalSince(start)
        let eta = step > 0 ? elapsed / Double(step) * Double(total - step) : 0
        let text = String(format: "epoch %d step %d/%d loss %.4f %.1f ex/s ETA %@",
                          epoch, step, total, loss, examplesPerSecond, Self.clock(eta))
        if isTerminal {
            guard Date().timeIntervalSince(lastDraw) > 0.1 || step == total else { return }
            lastDraw = Date()
            let width = 24
            let filled = width * step / total
            let bar = String(repeating: "#", count: filled) + String(repeating: "-", count: width - filled)
            FileHandle.standardError.write(Data("\r[\(bar)] \(text)\u{1B}[K".utf8))
            if step == total { FileHandle.standardError.write(Data("\n".utf8)) }
        } else if step % plainEvery == 0 || step == total || step == 1 {
            FileHandle.standardError.write(Data((text + "\n").utf8))
        }
    }

    /// A line of its own (evaluation results), ending any bar in progress.
    public func line(_ text: String) {
        FileHandle.standardError.write(Data(((isTerminal ? "\r\u{1B}[K" : "") + text + "\n").utf8))
    }

    static func clock(_ seconds: Double) -> String {
        let s = Int(seconds.rounded())
        return s >= 3600 ? String(format: "%d:%02d:%02d", s / 3600, s / 60 % 60, s % 60) : String(format: "%d:%02d", s / 60, s % 60)
    }
}
