"""The chapter quiz: 37 questions in ch4.toml, graded by `fastgroup quiz`.

model.py reads and validates the data file, grading.py scores one answer, sandbox.py runs code
answers in a limited child process, runner.py asks the questions and writes the result.
"""
