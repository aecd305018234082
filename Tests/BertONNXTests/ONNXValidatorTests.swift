import XCTest
@testable import BertONNX

final class ONNXValidatorTests: XCTestCase {
    /// Garbage bytes are rejected with a message, not a crash.
    func testRejectsBytesThatAreNotAModel() {
        XCTAssertThrowsError(try ONNXValidator.validate(Data([0xff, 0xff, 0xff]))) { error in
            guard case ONNXExportError.invalidModel(let message) = error else { return XCTFail("\(error)") }
            XCTAssertFalse(message.isEmpty)
        }
    }
}
