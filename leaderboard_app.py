"""The group's leaderboard page: `fastgroup leaderboard` serves it with Streamlit
(`streamlit run leaderboard_app.py` works too). The page itself is grader/board/page.py."""

from grader.board.page import main

main()
