# One image for every process of the production shape (web, ingest, worker, beat).
FROM python:3.11-slim-bookworm
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 HF_HUB_OFFLINE=1 ASSISTANT_VAR_DIR=/var/lib/assistant
WORKDIR /app
# OpenCV (under the slide OCR, rapidocr-onnxruntime) loads libGL and GLib at import.
RUN apt-get update && apt-get install -y --no-install-recommends libgl1 libglib2.0-0 \
 && rm -rf /var/lib/apt/lists/*
COPY requirements.txt .
RUN pip install --no-cache-dir -r requirements.txt
COPY . .
RUN useradd --system --home /var/lib/assistant assistant \
 && mkdir -p /var/lib/assistant && chown assistant /var/lib/assistant
USER assistant
RUN DJANGO_SECRET_KEY=build-only python manage.py collectstatic --noinput
EXPOSE 8000
CMD ["daphne", "-b", "0.0.0.0", "-p", "8000", "--http-timeout", "60", "assistant.asgi:application"]
