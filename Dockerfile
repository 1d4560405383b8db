# Production image for docker-compose.yml: one image for web, workers and beat.
FROM python:3.11-slim
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 DJANGO_ENV=production
WORKDIR /app
COPY pyproject.toml README.md ./
RUN pip install --no-cache-dir .
COPY . .
# Static files are collected into the image and served by WhiteNoise; the variables below exist only for this step.
RUN SECRET_KEY=collectstatic-only FIELD_ENCRYPTION_KEY=collectstatic-only DATABASE_URL=sqlite:////tmp/none \
    ALLOWED_HOSTS=localhost python manage.py collectstatic --noinput
# MEDIA_ROOT exists in the image, owned by the app user, so the `media` volume mounted there starts writable.
RUN mkdir -p /app/var/media && useradd --create-home dropline && chown -R dropline /app
USER dropline
EXPOSE 8000
CMD ["gunicorn", "erp.wsgi:application", "--bind", "0.0.0.0:8000"]
