"""Create the test database named by DISPERSA_TEST_DATABASE_URL (utf8mb4) if it does not exist."""
import os

from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

url = make_url(os.environ.get("DISPERSA_TEST_DATABASE_URL", "mysql+pymysql://root@127.0.0.1:3306/dispersa_test"))
engine = create_engine(url.set(database=""))
with engine.connect() as conn:
    conn.execute(text(f"CREATE DATABASE IF NOT EXISTS `{url.database}` CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci"))
print(f"test database {url.database} ready")
