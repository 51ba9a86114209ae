FROM python:3.11-slim-bookworm
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1
RUN apt-get update && apt-get install -y --no-install-recommends gettext && rm -rf /var/lib/apt/lists/*
RUN useradd --system --home /app rightsguard && mkdir -p /var/lib/rightsguard/media && chown rightsguard /var/lib/rightsguard/media
WORKDIR /app
COPY pyproject.toml README.md ./
RUN pip install --no-cache-dir .
COPY . .
RUN python manage.py compilemessages -v0 && DJANGO_DEBUG=1 python manage.py collectstatic --no-input -v0
USER rightsguard
EXPOSE 8000
CMD ["gunicorn", "rightsguard.wsgi", "-c", "deploy/gunicorn.conf.py", "--bind", "0.0.0.0:8000", "--workers", "3"]
