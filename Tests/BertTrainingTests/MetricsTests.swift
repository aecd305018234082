import Foundation
import XCTest
@testable import BertTraining

/// Metrics against scikit-learn and SciPy (golden/metrics/glue.json from tools/golden_metrics.py).
final class MetricsTests: XCTestCase {
    struct Golden: Decodable {
        struct Case: Decodable { var labels: [Int]; var predictions: [Int]; var accuracy: Double; var f1: Double; var matthews: Double }
        struct Regression: Decodable { var x: [Double]; var y: [Double]; var pearson: Double; var spearman: Double }
        var classification: [Case]
        var regression: [Regression]
    }

    func testAgainstScikitLearnAndSciPy() throws {
        let url = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
            .appendingPathComponent("../../golden/metrics/glue.json").standardizedFileURL
        let golden = try JSONDecoder().decode(Golden.self, from: Data(contentsOf: url))
        for c in golden.classification {
            XCTAssertEqual(Metrics.accuracy(predictions: c.predictions, labels: c.labels), c.accuracy, accuracy: 1e-12)
            XCTAssertEqual(Metrics.f1(predictions: c.predictions, labels: c.labels), c.f1, accuracy: 1e-12)
            XCTAssertEqual(Metrics.matthews(predictions: c.predictions, labels: c.labels), c.matthews, accuracy: 1e-12)
        }
        for r in golden.regression {
            XCTAssertEqual(Metrics.pearson(r.x, r.y), r.pearson, accuracy: 1e-12)
            XCTAssertEqual(Metrics.spearman(r.x, r.y), r.spearman, accuracy: 1e-12)
        }
    }
}
