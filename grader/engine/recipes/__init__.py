"""The training runs, written once, fed either the learner's code or the reference's."""
