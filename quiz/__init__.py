"""The chapter quiz: 37 questions in ch4.toml, graded by `fastgroup quiz`.

model.py reads and validates the data file, marking.py marks one answer, snippets.py judges code
answers (answer_process.py runs them in the kit's sandbox), session.py asks the questions or
reads an answers file, and writes the result.
"""
