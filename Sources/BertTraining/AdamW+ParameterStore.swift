import BertRuntime

// AdamW over the runtime's ParameterStore: the store's one contiguous buffer is exactly the
// layout the fused update wants (slots in the store's order).

extension AdamW {
    /// An optimizer for every parameter of `parameters`, in the store's slot layout.
    /// - Parameters:
    ///   - config: optimizer, learning rate and warmup settings.
    ///   - parameters: the store the updates will be applied to (only its layout is read).
    ///   - totalSteps: updates in the whole run (for the schedule).
    public convenience init(config: OptimizationConfig, parameters: ParameterStore, totalSteps: Int) throws {
        let slots = try parameters.names.map { name -> Slot in
            guard let range = parameters.slot(name) else { throw OptimizerError.badLayout("the store lists \(name) without a slot") }
            return (name, range)
        }
        try self.init(config: config, slots: slots, count: parameters.count, totalSteps: totalSteps)
    }

    /// Applies one update to `parameters` from `gradients`, a store with the same layout
    /// (e.g. `ParameterStore.matching(graph)` filled by the interpreter's `grad:` outputs).
    @discardableResult
    public func update(parameters: ParameterStore, gradients: ParameterStore) throws -> UpdateReport {
        for s in slots where parameters.slot(s.name) != s.range || gradients.slot(s.name) != s.range {
            throw OptimizerError.badLayout("parameter \(s.name) is not at \(s.range) in both stores")
        }
        return try parameters.withUnsafeMutableBufferPointer { p in
            try gradients.withUnsafeMutableBufferPointer { g in try update(parameters: p, gradients: UnsafeBufferPointer(g)) }
        }
    }
}
